"""Plain, frozen data that crosses the core's boundary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Movie:
    """One movie of the catalog; everything but the title may be unknown."""

    movie_id: int
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    overview: str = ""
    cast: tuple[str, ...] = ()
    producer: str = ""
    popularity: float | None = None

    @property
    def label(self) -> str:
        """The title with the year, as people name a movie: ``Die Hard (1988)``."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A movie found by a search, with its cosine similarity to the query."""

    movie: Movie
    score: float
