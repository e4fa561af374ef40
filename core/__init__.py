"""The moviebot recommender core: catalog, embeddings, index and taste maths.

Nothing in this package knows about chat platforms or schedulers.
"""
