"""Where a movie's page is on the web, for a card's link."""

from __future__ import annotations

from dataclasses import dataclass

from core.catalog import IMDB_ID
from core.models import Movie


@dataclass(frozen=True, slots=True)
class MoviePage:
    """A movie's page: the site's name and the address."""

    site: str
    url: str


def movie_page(movie: Movie) -> MoviePage | None:
    """The movie's TMDB page when the catalog knows its TMDB id, else its IMDb page when
    it knows that id, else ``None``."""
    if movie.tmdb_id is not None and movie.tmdb_id > 0:
        return MoviePage("TMDB", f"https://www.themoviedb.org/movie/{movie.tmdb_id}")
    if movie.imdb_id is not None and IMDB_ID.fullmatch(movie.imdb_id):
        return MoviePage("IMDb", f"https://www.imdb.com/title/{movie.imdb_id}/")
    return None
