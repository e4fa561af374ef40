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

from core.catalog import COHERE_MOVIES, SAMPLE, STABLE_ID_BASE, load_catalog, stable_ids
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
    assert (heat.title, heat.year, heat.tmdb_id, heat.vote_average) == ("Heat", None, None, None)
    assert heat.genres == ("Action", "Crime", "Drama")
    assert heat.cast == ("Al Pacino", "Robert De Niro")
    assert heat.producer == "Michael Mann"
    assert up.genres == ("Animation", "Family")
    assert [heat.movie_id, up.movie_id] == stable_ids([heat, up])


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
    assert [movie.movie_id for movie in catalog.movies] == stable_ids(catalog.movies)


def test_duplicate_titles_stay_distinct_movies(tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("id,title,release_date\n1,Heidi,1937-10-15\n2,Heidi,2005-03-01\n2,Clash,\n")
    catalog = load_catalog(str(path))
    assert [(m.movie_id, m.title, m.year) for m in catalog.movies] == [
        (1, "Heidi", 1937),
        (2, "Heidi", 2005),
    ]
    assert catalog.dropped_duplicate_ids == 1


def test_ids_made_from_titles_survive_a_reordered_file(tmp_path: Path) -> None:
    rows = [
        ("Batman", "1989", "The Dark Knight of Gotham City begins his war on crime."),
        ("Batman", "1966", "The Dynamic Duo faces four super-villains."),
        ("Heidi", "", "An orphan girl is sent to live with her grandfather."),
        ("Heidi", "", "A Swiss girl moves to the city."),
        ("Alien", "1979", "The crew of a spacecraft meets a deadly lifeform."),
    ]
    frame = pd.DataFrame(rows, columns=["title", "year", "overview"])
    frame.to_csv(tmp_path / "first.csv", index=False)
    frame.iloc[::-1].to_csv(tmp_path / "reordered.csv", index=False)

    first = {
        (m.label, m.overview): m.movie_id for m in load_catalog(str(tmp_path / "first.csv")).movies
    }
    again = load_catalog(str(tmp_path / "reordered.csv"))

    assert {(m.label, m.overview): m.movie_id for m in again.movies} == first
    assert len(set(first.values())) == 5 and again.dropped_duplicate_ids == 0
    assert all(STABLE_ID_BASE <= movie_id < 2 * STABLE_ID_BASE for movie_id in first.values())
    alien = next(m for m in again.movies if m.title == "Alien")
    renamed = pd.DataFrame(
        [("ALIEN", "1979", "Another text.")], columns=["title", "year", "overview"]
    )
    renamed.to_csv(tmp_path / "alien.csv", index=False)
    assert load_catalog(str(tmp_path / "alien.csv")).movies[0].movie_id == alien.movie_id


def test_the_raw_tmdb_table_gives_cards_what_they_need(tmp_path: Path) -> None:
    genres = json.dumps([{"id": 28, "name": "Action"}])
    frame = pd.DataFrame(
        {
            "id": ["562", "1"],
            "original_title": ["Die Hard", "Broken"],
            "title": ["Die Hard", "Broken"],
            "genres": [genres, "[]"],
            "release_date": ["1988-07-15", "1988-13-45"],
            "vote_average": ["7.5", "11"],
            "vote_count": ["3948", "-2"],
            "runtime": ["131", "0"],
            "popularity": ["37.2", ""],
        }
    )
    frame.to_csv(tmp_path / "tmdb_5000_movies.csv", index=False)

    die_hard, broken = load_catalog(str(tmp_path / "tmdb_5000_movies.csv")).movies

    assert (die_hard.movie_id, die_hard.tmdb_id, die_hard.imdb_id) == (562, 562, None)
    assert (die_hard.vote_average, die_hard.vote_count, die_hard.runtime) == (7.5, 3948, 131)
    assert (die_hard.release_date, die_hard.year, die_hard.genres) == (
        "1988-07-15",
        1988,
        ("Action",),
    )
    assert (broken.vote_average, broken.vote_count, broken.runtime) == (None, None, None)
    assert (broken.release_date, broken.year) == (None, 1988)


def test_a_plain_id_column_is_not_taken_for_tmdbs(tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text("id,title,imdb_id,tmdb_id\n7,Heat,tt0113277,949\n8,Up,nonsense,\n")
    heat, up = load_catalog(str(path)).movies
    assert (heat.movie_id, heat.tmdb_id, heat.imdb_id) == (7, 949, "tt0113277")
    own = tmp_path / "ids.csv"
    own.write_text("id,title,vote_average\n7,Heat,8.3\n")
    (movie,) = load_catalog(str(own)).movies
    assert (movie.movie_id, movie.tmdb_id, movie.vote_average) == (7, None, 8.3)
    assert (up.tmdb_id, up.imdb_id) == (None, None)


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
    assert (die_hard.tmdb_id, die_hard.vote_average, die_hard.vote_count) == (562, 7.5, 3948)
    assert die_hard.release_date == "1988-07-15"


def test_raw_tmdb_table_with_json_lists() -> None:
    catalog = load_catalog(str(shared_file("tmdb_5000_movies.csv.gz")))
    assert len(catalog) == 4803
    avatar = next(movie for movie in catalog.movies if movie.title == "Avatar")
    assert avatar.genres[:2] == ("Action", "Adventure") and avatar.year == 2009
    assert (avatar.movie_id, avatar.tmdb_id, avatar.runtime) == (19995, 19995, 162)
    assert avatar.vote_average == 7.2 and avatar.vote_count == 11800


def test_the_raw_tmdb_table_and_movies_parquet_agree() -> None:
    """The TMDB 5000 table, the recommended full catalog, read from its raw CSV as from
    the Cohere-schema copy: the same movies under the same ids, with ratings."""
    raw = load_catalog(str(shared_file("tmdb_5000_movies.csv.gz")))
    derived = {
        movie.movie_id: movie for movie in load_catalog(str(shared_file("movies.parquet"))).movies
    }
    assert {movie.movie_id for movie in raw.movies} == set(derived)
    rated = [movie for movie in raw.movies if movie.vote_count]
    assert len(rated) > 4_700 and all(0 <= movie.vote_average <= 10 for movie in rated)  # type: ignore[operator]
    assert all(derived[movie.movie_id].label == movie.label for movie in raw.movies)
