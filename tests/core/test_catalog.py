"""Catalog loading from the bundled sample, generated files, URLs and ../shared/data."""

from __future__ import annotations

import gzip
import http.server
import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from core.catalog import COHERE_MOVIES, SAMPLE, load_catalog
from core.errors import CatalogError
from testing.data import shared_file


def test_sample_is_a_broad_offline_catalog() -> None:
    catalog = load_catalog(SAMPLE)
    years = [movie.year for movie in catalog.movies]
    genres = {genre for movie in catalog.movies for genre in movie.genres}
    assert 180 <= len(catalog) <= 250
    assert all(movie.overview and movie.genres for movie in catalog.movies)
    assert None not in years and min(years) < 1960 and max(years) >= 2020
    assert len(genres) >= 15
    assert len({movie.movie_id for movie in catalog.movies}) == len(catalog)
    assert {"Die Hard", "Amélie", "WALL·E"} <= {movie.title for movie in catalog.movies}


def test_cohere_schema_parquet(tmp_path: Path) -> None:
    path = tmp_path / "movies.parquet"
    pd.DataFrame(
        {
            "title": ["Heat", "Up"],
            "overview": ["A thief and a detective.", "A house flies away."],
            "genres": ["Action, Crime, Drama", "Animation, Family"],
            "producer": ["Michael Mann", "Pixar"],
            "cast": ["Al Pacino, Robert De Niro", "Ed Asner"],
        }
    ).to_parquet(path)
    heat, up = load_catalog(str(path)).movies
    assert (heat.movie_id, heat.title, heat.year) == (0, "Heat", None)
    assert heat.genres == ("Action", "Crime", "Drama")
    assert heat.cast == ("Al Pacino", "Robert De Niro")
    assert heat.producer == "Michael Mann"
    assert (up.movie_id, up.genres) == (1, ("Animation", "Family"))


def test_only_title_is_required_and_untitled_rows_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "titles.csv"
    path.write_text("title,year\nAlien,1979\n,1980\n   ,1981\nAliens,1986\n", encoding="utf-8")
    catalog = load_catalog(str(path))
    assert [(movie.title, movie.year) for movie in catalog.movies] == [
        ("Alien", 1979),
        ("Aliens", 1986),
    ]
    assert catalog.dropped_untitled == 2
    assert catalog.movies[0].genres == () and catalog.movies[0].overview == ""
    assert [movie.movie_id for movie in catalog.movies] == [0, 3]


def test_duplicate_titles_stay_distinct_movies(tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("id,title,release_date\n1,Heidi,1937-10-15\n2,Heidi,2005-03-01\n2,Clash,\n")
    catalog = load_catalog(str(path))
    assert [(m.movie_id, m.title, m.year) for m in catalog.movies] == [
        (1, "Heidi", 1937),
        (2, "Heidi", 2005),
    ]
    assert catalog.dropped_duplicate_ids == 1


def test_tmdb_json_genres_in_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "tmdb.csv.gz"
    genres = json.dumps([{"id": 28, "name": "Action"}, {"id": 53, "name": "Thriller"}])
    frame = pd.DataFrame(
        {"id": [562], "title": ["Die Hard"], "genres": [genres], "release_date": ["1988-07-15"]}
    )
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        frame.to_csv(stream, index=False)
    (movie,) = load_catalog(str(path)).movies
    assert (movie.movie_id, movie.year, movie.genres) == (562, 1988, ("Action", "Thriller"))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("no/such/movies.parquet", "not found"),
        ("movies.json", "unsupported"),
    ],
)
def test_clear_errors_for_bad_sources(source: str, message: str, tmp_path: Path) -> None:
    if source.endswith(".json"):
        (tmp_path / source).write_text("[]")
        source = str(tmp_path / source)
    with pytest.raises(CatalogError, match=message):
        load_catalog(source)


def test_table_without_title_column(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("name,year\nAlien,1979\n")
    with pytest.raises(CatalogError, match=r"no 'title' column.*name, year"):
        load_catalog(str(path))


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(str(path))


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server over ``tmp_path``, standing in for a remote catalog host."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_sources_go_through_fsspec(tmp_path: Path, http_folder: str) -> None:
    pd.DataFrame({"title": ["Up"], "genres": ["Animation"]}).to_parquet(tmp_path / "m.parquet")
    for url in (f"{http_folder}/m.parquet", (tmp_path / "m.parquet").as_uri()):
        (movie,) = load_catalog(url).movies
        assert (movie.title, movie.genres) == ("Up", ("Animation",))


def test_unreachable_url_is_a_catalog_error(http_folder: str) -> None:
    with pytest.raises(CatalogError, match="cannot fetch the catalog"):
        load_catalog(f"{http_folder}/missing.parquet")


def test_hub_default_fails_clearly_when_offline() -> None:
    # The machines that run the tests reach no hub; the same code path runs in production.
    with pytest.raises(CatalogError, match=re.escape(COHERE_MOVIES)):
        load_catalog()


def test_shared_movies_parquet() -> None:
    catalog = load_catalog(str(shared_file("movies.parquet")))
    assert len(catalog) == 4803 and catalog.dropped_untitled == 0
    titles = [movie.title for movie in catalog.movies]
    assert len(titles) - len(set(titles)) == 3
    die_hard = next(movie for movie in catalog.movies if movie.title == "Die Hard")
    assert die_hard.year == 1988 and "Action" in die_hard.genres
    assert die_hard.movie_id == 562 and die_hard.popularity


def test_raw_tmdb_table_with_json_lists() -> None:
    catalog = load_catalog(str(shared_file("tmdb_5000_movies.csv.gz")))
    assert len(catalog) == 4803
    avatar = next(movie for movie in catalog.movies if movie.title == "Avatar")
    assert avatar.genres[:2] == ("Action", "Adventure") and avatar.year == 2009
