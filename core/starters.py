"""What a user with no picks is shown first: the cold-start set of an index."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import faiss
import numpy as np

from core.index import MovieIndex
from core.models import Movie, Reason, ReasonKind, Recommendation
from core.ranking import popularity_prior

# Two of the longest lists a user can page through (50 movies): /recommend's, and
# /explore's after it.
POPULAR_STARTERS = 100
CLUSTERS = 100


class StarterSet:
    """The most popular movies of the catalog or, when it has no popularity, one movie per
    k-means cluster of its vectors (clustered on first use)."""

    def __init__(self, index: MovieIndex) -> None:
        self._index = index
        self._by_popularity = bool(popularity_prior(index.movies))
        self._movies: tuple[Movie, ...] | None = None

    def movies(self) -> tuple[Movie, ...]:
        """The whole set, best first."""
        if self._movies is None:
            self._movies = (
                _popular(self._index.movies) if self._by_popularity else _spread(self._index)
            )
        return self._movies

    def recommendations(
        self, k: int, exclude: Collection[int] = (), offset: int = 0
    ) -> list[Recommendation]:
        """``k`` starters after the first ``offset``, leaving out the movies of ``exclude``."""
        reason = Reason(ReasonKind.POPULAR if self._by_popularity else ReasonKind.CATALOG_CORNER)
        movies = [m for m in self.movies()[offset:] if m.movie_id not in exclude]
        return [Recommendation(movie, 0.0, reason) for movie in movies[:k]]


def _popular(movies: Sequence[Movie]) -> tuple[Movie, ...]:
    ranked = sorted(movies, key=lambda movie: movie.popularity or 0.0, reverse=True)
    return tuple(ranked[:POPULAR_STARTERS])


def _spread(index: MovieIndex) -> tuple[Movie, ...]:
    """One movie per k-means cluster of the catalog vectors, largest clusters first."""
    vectors = index.all_vectors()
    clusters = min(CLUSTERS, len(vectors))
    kmeans = faiss.Kmeans(
        vectors.shape[1], clusters, niter=20, seed=7, spherical=True, min_points_per_centroid=1
    )
    kmeans.train(vectors)
    _, assignment = kmeans.index.search(vectors, 1)
    largest_first = np.argsort(-np.bincount(assignment[:, 0], minlength=clusters), kind="stable")
    centroids = np.asarray(kmeans.centroids, np.float32)
    nearest = index.search_many(centroids[largest_first], k=1)
    seen: dict[int, Movie] = {}
    for hits in nearest:
        if hits:
            seen.setdefault(hits[0].movie.movie_id, hits[0].movie)
    return tuple(seen.values())
