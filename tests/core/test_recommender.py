"""Search through the Recommender on the sample index with the real local model."""

from __future__ import annotations

import pytest

from core.embedders import LocalEmbedder
from core.errors import IndexFileError, InvalidQueryError
from core.index import MovieIndex
from core.recommender import MAX_RESULTS, Recommender
from tests.conftest import random_movies


@pytest.fixture(scope="module")
def recommender(sample_index: MovieIndex, local_embedder: LocalEmbedder) -> Recommender:
    return Recommender(sample_index, local_embedder)


def titles(recommender: Recommender, text: str, k: int = 5) -> list[str]:
    return [hit.movie.title for hit in recommender.search(text, k)]


def test_die_hard_finds_the_die_hard_movies_first(recommender: Recommender) -> None:
    assert set(titles(recommender, "die hard")[:3]) == {
        "Die Hard",
        "Die Hard 2",
        "Die Hard with a Vengeance",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a lonely robot cleaning up an abandoned Earth", "WALL·E"),
        ("toys that come alive when nobody is watching", "Toy Story"),
        ("a great white shark terrorizes a beach town", "Jaws"),
    ],
)
def test_plot_descriptions_find_the_movie(
    recommender: Recommender, text: str, expected: str
) -> None:
    assert expected in titles(recommender, text, k=3)


@pytest.mark.parametrize(
    "text", ["🦈🏖️ shark beach", "فيلم عن سمكة قرش", "x" * 10_000, "<b>jaws</b> *shark* `x`"]
)
def test_odd_queries_get_sensible_answers(recommender: Recommender, text: str) -> None:
    hits = recommender.search(text)
    assert len(hits) == 5 and all(-1.0 <= hit.score <= 1.0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_empty_query_is_refused(recommender: Recommender) -> None:
    with pytest.raises(InvalidQueryError):
        recommender.search("   \n ")


@pytest.mark.parametrize(("k", "expected"), [(0, 1), (-3, 1), (3, 3), (10_000, MAX_RESULTS)])
def test_k_is_clamped(recommender: Recommender, k: int, expected: int) -> None:
    assert len(recommender.search("western", k)) == expected


def test_an_index_of_another_embedder_is_refused(local_embedder: LocalEmbedder) -> None:
    movies, vectors = random_movies(10, dim=384)
    index = MovieIndex.from_vectors(movies, vectors, "ollama:nomic-embed-text")
    with pytest.raises(IndexFileError, match="ollama:nomic-embed-text"):
        Recommender(index, local_embedder)
