"""Movies found by their titles as people type them: completions and exact names.

Everything is in memory and needs neither the embedding model nor the store, so a
completion is answered at once, as Discord's autocomplete requires (3 seconds).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from core.models import Movie


def folded(text: str) -> str:
    """``text`` as titles are compared: lower case, accents and punctuation aside, one
    space between words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"\w+", bare))


class TitleIndex:
    """The titles of a catalog, most voted first."""

    def __init__(self, movies: Sequence[Movie]) -> None:
        ranked = sorted(movies, key=lambda movie: -(movie.popularity or 0.0))
        self._titles = [(folded(movie.title), movie) for movie in ranked]
        self._names: dict[str, Movie] = {}
        for movie in ranked:
            self._names.setdefault(folded(movie.label), movie)
        for title, movie in self._titles:
            self._names.setdefault(title, movie)

    def complete(self, typed: str, limit: int = 25) -> list[Movie]:
        """Up to ``limit`` movies whose title starts with ``typed``, then those with a
        word that does, each group most voted first; none for nothing typed."""
        wanted = folded(typed)
        if not wanted or limit < 1:
            return []
        starts: list[Movie] = []
        inside: list[Movie] = []
        for title, movie in self._titles:
            if title.startswith(wanted):
                starts.append(movie)
                if len(starts) == limit:
                    break
            elif len(inside) < limit and f" {wanted}" in f" {title}":
                inside.append(movie)
        return (starts + inside)[:limit]

    def named(self, text: str) -> Movie | None:
        """The movie ``text`` names exactly, as ``Title (year)`` or as a title alone (the
        most voted of that title), or ``None``."""
        return self._names.get(folded(text))
