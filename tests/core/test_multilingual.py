"""Searching in Russian: a multilingual model on Ollama (tested against the local Ollama
stand-in) reads Cyrillic as it is; the packaged English-only model is known not to."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import OllamaEmbedder, OnnxEmbedder
from core.index import IndexParams, MovieIndex
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.text import document_text, in_cyrillic, reads_many_languages
from testing.ollama_api import FakeOllama, embed_text
from testing.russian_queries import RUSSIAN_QUERIES


@pytest.fixture
def bge_m3() -> FakeOllama:
    with FakeOllama(models=("bge-m3", "paraphrase-multilingual:278m"), dim=64) as server:
        yield server


@pytest.mark.parametrize("model", ["bge-m3", "paraphrase-multilingual:278m"])
def test_a_multilingual_model_gets_the_text_as_it_is(bge_m3: FakeOllama, model: str) -> None:
    embedder = OllamaEmbedder(bge_m3.url, model)
    vector = embedder.embed_query("Крепкий орешек")
    embedder.embed_documents(["Die Hard (1988)."])
    assert [call.inputs for call in bge_m3.calls] == [["Крепкий орешек"], ["Die Hard (1988)."]]
    expected = np.asarray(embed_text("Крепкий орешек", 64), dtype=np.float32)
    np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=1e-6)


def test_which_models_read_other_languages_than_english() -> None:
    assert reads_many_languages("ollama:bge-m3")
    assert reads_many_languages("ollama:bge-m3:567m")
    assert reads_many_languages("ollama:paraphrase-multilingual")
    assert not reads_many_languages("ollama:nomic-embed-text")
    assert not reads_many_languages(OnnxEmbedder.NAME)
    assert not reads_many_languages("local:bge-m3")
    assert in_cyrillic("die hard, Крепкий") and not in_cyrillic("Amélie, 千と千尋")


def test_a_russian_search_runs_through_a_multilingual_model(bge_m3: FakeOllama) -> None:
    """The whole way on the stand-in: the catalog indexed with bge-m3, a Russian query
    embedded and searched, with no hint that the model reads English only."""
    catalog = load_catalog(SAMPLE)
    embedder = OllamaEmbedder(bge_m3.url, "bge-m3")
    vectors = embedder.embed_documents([document_text(movie) for movie in catalog.movies])
    index = MovieIndex.from_vectors(catalog.movies, vectors, embedder.name, IndexParams(), "sample")
    recommender = Recommender(index, embedder, MemoryProfileStore())
    hits = asyncio.run(recommender.search("Крепкий орешек", 5))
    assert len(hits) == 5 and bge_m3.calls[-1].inputs == ["Крепкий орешек"]
    assert recommender.reads("Крепкий орешек")


def test_the_english_model_does_not_read_cyrillic(
    sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    recommender = Recommender(sample_index, local_embedder, MemoryProfileStore())
    assert not recommender.reads("Крепкий орешек")
    assert recommender.reads("die hard") and recommender.reads("Amélie")


def test_every_russian_query_means_a_film_of_the_sample_catalog() -> None:
    titles = {movie.title for movie in load_catalog(SAMPLE).movies}
    assert {title for _, title in RUSSIAN_QUERIES} <= titles
    assert all(in_cyrillic(query) for query, _ in RUSSIAN_QUERIES)
