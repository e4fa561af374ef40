"""The Faiss index: search, exclusions, save/load round trip and rejection of bad files."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

import core.index
from core.errors import IndexFileError
from core.index import IndexParams, MovieIndex, fingerprint, read_manifest
from core.models import Movie
from testing.data import random_movies

EXACT = IndexParams()
HNSW = IndexParams(hnsw_m=16, ef_construction=64, ef_search=64, exact_max_vectors=0)


def make_index(params: IndexParams = EXACT, count: int = 300) -> MovieIndex:
    movies, vectors = random_movies(count)
    return MovieIndex.from_vectors(movies, vectors, "test:random", params, source="random")


@pytest.mark.parametrize(("params", "kind"), [(EXACT, "flat"), (HNSW, "hnsw")])
def test_a_movie_vector_finds_that_movie_first(params: IndexParams, kind: str) -> None:
    index = make_index(params)
    assert index.manifest.kind == kind
    for movie in index.movies[:20]:
        best = index.search(index.vector(movie.movie_id), k=3)[0]
        assert best.movie == movie and best.score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("params", [EXACT, HNSW])
def test_excluded_movies_never_come_back(params: IndexParams) -> None:
    index = make_index(params)
    rng = np.random.default_rng(1)
    for _ in range(20):
        query = index.vector(int(rng.choice([m.movie_id for m in index.movies])))
        first = [hit.movie.movie_id for hit in index.search(query, k=10)]
        excluded = set(first[:5]) | {999_999}
        again = index.search(query, k=10, exclude=excluded)
        assert len(again) == 10 and not excluded & {hit.movie.movie_id for hit in again}
        assert [hit.movie.movie_id for hit in again][:5] == first[5:]


def test_k_beyond_what_is_left_returns_fewer() -> None:
    index = make_index(count=8)
    everything_but_two = {movie.movie_id for movie in index.movies[2:]}
    hits = index.search(index.vector(index.movies[0].movie_id), k=50, exclude=everything_but_two)
    assert {hit.movie.movie_id for hit in hits} == {m.movie_id for m in index.movies[:2]}


def test_search_many_matches_single_searches() -> None:
    index = make_index(HNSW)
    queries = np.stack([index.vector(movie.movie_id) for movie in index.movies[:5]])
    batched = index.search_many(queries, k=4)
    assert batched == [index.search(query, k=4) for query in queries]


@pytest.mark.parametrize(
    "query",
    [np.ones(8, np.float32), np.full(16, np.nan, np.float32), np.full(16, np.inf, np.float32)],
)
def test_vectors_of_wrong_length_or_not_finite_are_rejected(query: np.ndarray) -> None:
    with pytest.raises(ValueError):
        make_index().search(query)


def test_round_trip_keeps_movies_results_and_manifest(tmp_path: Path) -> None:
    index = make_index(HNSW)
    index.save(tmp_path / "index")
    loaded = MovieIndex.load(tmp_path / "index", embedder="test:random", dim=16)
    assert loaded.movies == index.movies
    assert loaded.manifest == read_manifest(tmp_path / "index")
    assert loaded.fingerprint == index.fingerprint
    assert (loaded.manifest.kind, loaded.manifest.count, loaded.manifest.params) == (
        "hnsw",
        300,
        HNSW,
    )
    query = index.vector(index.movies[7].movie_id)
    assert loaded.search(query, k=5, exclude={1007}) == index.search(query, k=5, exclude={1007})


def test_the_catalog_snapshot_keeps_every_field(tmp_path: Path) -> None:
    amelie = Movie(1, "Amélie", 2001, ("Comedy", "Romance"), "Paris, «un» rêve.\nLine two")
    movies = [
        Movie(
            **{**asdict(amelie), "cast": ("Audrey Tautou",), "producer": "UGC", "popularity": 9.0}
        ),
        Movie(2, 'Untitled "draft"'),
        replace(
            amelie,
            movie_id=194,
            vote_average=7.8,
            vote_count=3403,
            release_date="2001-04-25",
            tmdb_id=194,
            imdb_id="tt0211915",
            runtime=122,
        ),
    ]
    vectors = np.eye(3, 4, dtype=np.float32)
    MovieIndex.from_vectors(movies, vectors, "test:random").save(tmp_path / "index")

    assert MovieIndex.load(tmp_path / "index").movies == tuple(movies)


def test_a_snapshot_from_before_ratings_and_ids_loads_without_them(tmp_path: Path) -> None:
    make_index().save(tmp_path / "index")
    snapshot = tmp_path / "index" / core.index.MOVIES_FILE
    old_fields = (
        "movie_id",
        "title",
        "year",
        "genres",
        "overview",
        "cast",
        "producer",
        "popularity",
    )
    rows = [json.loads(line) for line in snapshot.read_text().splitlines()]
    snapshot.write_text("".join(json.dumps({k: row[k] for k in old_fields}) + "\n" for row in rows))
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    manifest["files_sha256"].pop(core.index.MOVIES_FILE)
    (tmp_path / "index" / "manifest.json").write_text(json.dumps(manifest))

    movie = MovieIndex.load(tmp_path / "index").movies[0]

    assert (movie.vote_average, movie.tmdb_id, movie.runtime) == (None, None, None)


def test_a_damaged_catalog_snapshot_is_refused(tmp_path: Path) -> None:
    make_index().save(tmp_path / "index")
    snapshot = tmp_path / "index" / core.index.MOVIES_FILE
    snapshot.write_text(snapshot.read_text().replace("Movie", "Film", 1))

    with pytest.raises(IndexFileError, match="corrupt"):
        MovieIndex.load(tmp_path / "index")


def test_fingerprint_tracks_model_dim_and_catalog() -> None:
    base = fingerprint("local:a", 384, [1, 2, 3])
    assert base == fingerprint("local:a", 384, [1, 2, 3])
    others = {
        fingerprint("local:b", 384, [1, 2, 3]),
        fingerprint("local:a", 768, [1, 2, 3]),
        fingerprint("local:a", 384, [1, 2, 4]),
    }
    assert base not in others and len(others) == 3


@pytest.mark.parametrize(
    ("embedder", "dim", "message"),
    [("ollama:nomic-embed-text", None, "built with test:random"), (None, 768, "16-d")],
)
def test_loading_for_another_embedder_or_dim_fails(
    tmp_path: Path, embedder: str | None, dim: int | None, message: str
) -> None:
    make_index().save(tmp_path / "index")
    with pytest.raises(IndexFileError, match=message):
        MovieIndex.load(tmp_path / "index", embedder=embedder, dim=dim)


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexFileError, match="moviebot build-index"):
        MovieIndex.load(tmp_path / "nothing-here")


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_corrupt_index_files_are_refused(tmp_path: Path, damage: str) -> None:
    make_index().save(tmp_path / "index")
    path = tmp_path / "index" / "index.faiss"
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    else:
        path.unlink()
    with pytest.raises(IndexFileError, match="rebuild the index"):
        MovieIndex.load(tmp_path / "index")


@pytest.mark.parametrize("text", ["{not json", '{"format_version": 1}', "[]"])
def test_corrupt_manifest_is_refused(tmp_path: Path, text: str) -> None:
    make_index().save(tmp_path / "index")
    (tmp_path / "index" / "manifest.json").write_text(text)
    with pytest.raises(IndexFileError):
        MovieIndex.load(tmp_path / "index")


def test_failed_save_leaves_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "index"
    make_index(count=50).save(target)
    before = {path.name: path.read_bytes() for path in target.iterdir()}

    def broken_snapshot(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(core.index, "_movies_json", broken_snapshot)
    with pytest.raises(OSError, match="disk full"):
        make_index(count=80).save(target)
    assert {path.name: path.read_bytes() for path in target.iterdir()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index"]


def test_save_replaces_an_existing_index(tmp_path: Path) -> None:
    make_index(count=50).save(tmp_path / "index")
    make_index(count=80).save(tmp_path / "index")
    assert len(MovieIndex.load(tmp_path / "index")) == 80
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["count"] == 80
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index"]
