"""The Recommender: the one object chat adapters and the CLI call."""

from __future__ import annotations

from core.errors import IndexFileError
from core.index import MovieIndex
from core.models import SearchHit
from core.ports import Embedder
from core.text import clean_query

MAX_RESULTS = 20


class Recommender:
    """Answers searches over a movie index with the embedder the index was built with."""

    def __init__(self, index: MovieIndex, embedder: Embedder) -> None:
        if embedder.name != index.manifest.embedder:
            raise IndexFileError(
                f"the index was built with {index.manifest.embedder}, "
                f"but the embedder is {embedder.name}"
            )
        self._index = index
        self._embedder = embedder

    def search(self, text: str, k: int = 5) -> list[SearchHit]:
        """The movies closest to a free-text description.

        Args:
            text: what the user typed; cleaned and cut to a sane length.
            k: how many results, clamped to 1..20.

        Raises:
            InvalidQueryError: nothing searchable is left of ``text``.
        """
        query = clean_query(text)
        k = min(max(k, 1), MAX_RESULTS)
        return self._index.search(self._embedder.embed_query(query), k)
