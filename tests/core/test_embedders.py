"""The Ollama embedder through the real client against a local emulator, and the cache of
document embeddings."""

from __future__ import annotations

import hashlib
import math
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.embedders import OllamaEmbedder
from core.embedding_cache import EmbeddingCache, embed_documents_cached
from core.errors import EmbedderError
from testing.ollama_api import FakeOllama, embed_text

MODEL = "nomic-embed-text"


def embedder_for(server: FakeOllama, **options: float) -> OllamaEmbedder:
    settings: dict[str, float] = {"retries": 2, "backoff": 0.0, "timeout": 10.0} | options
    return OllamaEmbedder(host=server.url, model=MODEL, **settings)  # type: ignore[arg-type]


def expected(texts: list[str], dim: int = 768) -> np.ndarray:
    """What a correct client makes of the emulator's raw vectors: unit-length rows."""
    raw = np.array([embed_text(text, dim) for text in texts], dtype=np.float64)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


def documents_embedded(server: FakeOllama) -> list[str]:
    """Every document text the emulator was asked to embed, nomic's prefix stripped (the
    other models take none)."""
    prefix = "search_document: "
    return [
        text.removeprefix(prefix)
        for call in server.calls
        for text in call.inputs
        if text.startswith(prefix) or call.model != MODEL
    ]


def assert_unit_float32(vectors: np.ndarray) -> None:
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


TITLES = [f"movie number {n} about topic {n % 3}" for n in range(10)]


# --- OllamaEmbedder: the protocol ---------------------------------------------------------


def test_embed_documents_sends_prefixed_batches(ollama_server: FakeOllama) -> None:
    embedder = embedder_for(ollama_server, batch_size=4)

    vectors = embedder.embed_documents(TITLES)

    assert [len(call.inputs) for call in ollama_server.calls] == [4, 4, 2]
    assert [text for call in ollama_server.calls for text in call.inputs] == [
        f"search_document: {title}" for title in TITLES
    ]
    assert all(call.model == MODEL and call.truncate is True for call in ollama_server.calls)
    assert vectors.shape == (10, 768)
    assert_unit_float32(vectors)
    np.testing.assert_allclose(
        vectors, expected([f"search_document: {t}" for t in TITLES]), atol=1e-6
    )


def test_embed_query_sends_one_prefixed_input(ollama_server: FakeOllama) -> None:
    vector = embedder_for(ollama_server).embed_query("die hard")

    assert [call.inputs for call in ollama_server.calls] == [["search_query: die hard"]]
    assert vector.shape == (768,)
    assert_unit_float32(vector)
    np.testing.assert_allclose(vector, expected(["search_query: die hard"])[0], atol=1e-6)


def test_dim_is_unknown_until_the_first_embedding_and_asks_the_server_nothing() -> None:
    with FakeOllama(dim=96) as server:
        embedder = embedder_for(server)

        assert embedder.dim is None
        assert server.calls == []
        assert embedder.embed_documents(["alien"]).shape == (1, 96)
        assert embedder.dim == 96
        assert len(server.calls) == 1


def test_dim_given_beforehand_needs_no_call(ollama_server: FakeOllama) -> None:
    embedder = embedder_for(ollama_server, dim=768)

    assert embedder.dim == 768
    assert ollama_server.calls == []


def test_an_answer_of_another_length_than_the_given_dim_is_refused() -> None:
    with FakeOllama(dim=96) as server:
        embedder = embedder_for(server, dim=768)

        with pytest.raises(EmbedderError, match="96-d vectors, expected 768"):
            embedder.embed_query("alien")


def test_dim_after_embedding_needs_no_probe(ollama_server: FakeOllama) -> None:
    embedder = embedder_for(ollama_server)
    embedder.embed_documents(["alien"])

    assert embedder.dim == 768
    assert len(ollama_server.calls) == 1


def test_same_text_same_vector_and_different_text_different_vector(
    ollama_server: FakeOllama,
) -> None:
    first = embedder_for(ollama_server).embed_documents(["alien", "heat"])
    again = embedder_for(ollama_server).embed_documents(["alien"])

    np.testing.assert_array_equal(first[0], again[0])
    assert not np.allclose(first[0], first[1])


def test_embed_documents_of_nothing_is_empty(ollama_server: FakeOllama) -> None:
    vectors = embedder_for(ollama_server, dim=768).embed_documents([])

    assert vectors.shape == (0, 768)
    assert vectors.dtype == np.float32
    assert documents_embedded(ollama_server) == []


# --- OllamaEmbedder: failures -------------------------------------------------------------


def test_server_errors_are_retried(ollama_server: FakeOllama) -> None:
    ollama_server.fail_next(2)

    vectors = embedder_for(ollama_server, retries=2).embed_documents(["alien"])

    assert len(ollama_server.calls) == 3
    np.testing.assert_allclose(vectors, expected(["search_document: alien"]), atol=1e-6)


def test_server_errors_beyond_the_retries_raise(ollama_server: FakeOllama) -> None:
    ollama_server.fail_next(3)

    with pytest.raises(EmbedderError, match="Ollama failed to embed") as caught:
        embedder_for(ollama_server, retries=2).embed_documents(["alien"])

    assert "injected server failure" in str(caught.value)
    assert len(ollama_server.calls) == 3


def test_unreachable_server_raises() -> None:
    host = f"http://127.0.0.1:{free_port()}"
    embedder = OllamaEmbedder(host=host, retries=1, backoff=0.001, timeout=5.0)

    with pytest.raises(EmbedderError, match="cannot reach the Ollama server") as caught:
        embedder.embed_query("alien")

    assert host in str(caught.value)
    assert "ollama serve" in str(caught.value)


def test_hanging_server_times_out(ollama_server: FakeOllama) -> None:
    ollama_server.hang_next(2)
    embedder = embedder_for(ollama_server, retries=1, backoff=0.001, timeout=0.5)

    with pytest.raises(EmbedderError, match="Timeout") as caught:
        embedder.embed_query("alien")

    assert ollama_server.url in str(caught.value)
    assert len(ollama_server.calls) == 2


def test_missing_model_says_to_pull_it_and_is_not_retried(ollama_server: FakeOllama) -> None:
    embedder = OllamaEmbedder(host=ollama_server.url, model="mxbai-embed-large", backoff=0)

    with pytest.raises(EmbedderError, match=r"run `ollama pull mxbai-embed-large`"):
        embedder.embed_query("alien")

    assert len(ollama_server.calls) == 1


def zero_first(embeddings: list[list[float]]) -> list[list[float]]:
    return [[0.0] * len(embeddings[0]), *embeddings[1:]]


def nan_first(embeddings: list[list[float]]) -> list[list[float]]:
    return [[math.nan, *embeddings[0][1:]], *embeddings[1:]]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (zero_first, "empty or non-finite"),
        (nan_first, "empty or non-finite"),
        (lambda embeddings: embeddings[:-1], "2 vectors for 3 texts"),
        (lambda embeddings: [*embeddings, embeddings[0]], "4 vectors for 3 texts"),
    ],
    ids=["zero-vector", "nan", "too-few", "too-many"],
)
def test_malformed_embeddings_raise(
    ollama_server: FakeOllama,
    tamper: Callable[[list[list[float]]], list[list[float]]],
    message: str,
) -> None:
    ollama_server.tamper_next(tamper)

    with pytest.raises(EmbedderError, match=message):
        embedder_for(ollama_server).embed_documents(["alien", "heat", "ran"])


def test_a_change_of_dimension_raises(ollama_server: FakeOllama) -> None:
    embedder = embedder_for(ollama_server)
    embedder.embed_documents(["alien"])
    ollama_server.tamper_next(lambda embeddings: [vector[:384] for vector in embeddings])

    with pytest.raises(EmbedderError, match="384-d vectors, expected 768"):
        embedder.embed_documents(["heat"])


# --- embed_documents_cached ---------------------------------------------------------------


def test_cache_embeds_only_what_it_does_not_hold(ollama_server: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "cache" / "embeddings.sqlite"
    old = [f"old movie {n}" for n in range(20)]
    new = [f"new movie {n}" for n in range(10)]

    first = embed_documents_cached(embedder_for(ollama_server), old, EmbeddingCache(path))
    assert sorted(documents_embedded(ollama_server)) == sorted(old)
    np.testing.assert_allclose(first, expected([f"search_document: {t}" for t in old]), atol=1e-6)

    ollama_server.calls.clear()
    again = embed_documents_cached(embedder_for(ollama_server), old, EmbeddingCache(path))
    assert documents_embedded(ollama_server) == []
    np.testing.assert_array_equal(again, first)
    assert again.dtype == np.float32

    ollama_server.calls.clear()
    progress: list[tuple[int, int]] = []
    texts = [text for pair in zip(old[:10], new, strict=True) for text in pair] + old[10:]
    grown = embed_documents_cached(
        embedder_for(ollama_server),
        texts,
        EmbeddingCache(path),
        lambda done, total: progress.append((done, total)),
    )
    assert sorted(documents_embedded(ollama_server)) == sorted(new)
    np.testing.assert_allclose(grown, expected([f"search_document: {t}" for t in texts]), atol=1e-6)
    assert progress == [(20, 30), (30, 30)]


def overwrite_cached_vector(path: Path, text: str, blob: bytes) -> None:
    key = hashlib.sha256(text.encode()).hexdigest()
    with sqlite3.connect(path) as db:
        updated = db.execute(
            "UPDATE embeddings SET vector = ? WHERE text_sha256 = ?", (blob, key)
        ).rowcount
    assert updated == 1


@pytest.mark.parametrize(
    "blob",
    [
        np.ones(767, "<f4").tobytes(),
        np.ones(769, "<f4").tobytes(),
        b"",
        np.full(768, np.nan, "<f4").tobytes(),
    ],
    ids=["short", "long", "empty", "nan"],
)
def test_cache_re_embeds_a_corrupt_vector(
    ollama_server: FakeOllama, tmp_path: Path, blob: bytes
) -> None:
    path = tmp_path / "embeddings.sqlite"
    embedder = embedder_for(ollama_server)
    embed_documents_cached(embedder, TITLES, EmbeddingCache(path))
    overwrite_cached_vector(path, TITLES[3], blob)
    ollama_server.calls.clear()

    vectors = embed_documents_cached(embedder, TITLES, EmbeddingCache(path))

    assert documents_embedded(ollama_server) == [TITLES[3]]
    np.testing.assert_allclose(
        vectors, expected([f"search_document: {t}" for t in TITLES]), atol=1e-6
    )
    ollama_server.calls.clear()
    embed_documents_cached(embedder, TITLES, EmbeddingCache(path))
    assert documents_embedded(ollama_server) == []


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    with FakeOllama(models=(MODEL, "mxbai-embed-large")) as server:
        nomic = embedder_for(server)
        other = OllamaEmbedder(host=server.url, model="mxbai-embed-large", backoff=0)
        embed_documents_cached(nomic, TITLES, cache)

        server.calls.clear()
        embed_documents_cached(other, TITLES, cache)
        assert sorted(documents_embedded(server)) == sorted(TITLES)
        assert {call.model for call in server.calls} == {"mxbai-embed-large"}

        server.calls.clear()
        embed_documents_cached(nomic, TITLES, cache)
        embed_documents_cached(other, TITLES, cache)
        assert documents_embedded(server) == []


def test_cache_refuses_vectors_of_one_model_that_differ_in_length(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    with FakeOllama(dim=96) as server:
        embed_documents_cached(embedder_for(server), TITLES[:3], cache)
    with FakeOllama(dim=768) as server, pytest.raises(EmbedderError, match="differ in length"):
        embed_documents_cached(embedder_for(server), TITLES, cache)


def test_cache_of_nothing_is_empty(ollama_server: FakeOllama, tmp_path: Path) -> None:
    vectors = embed_documents_cached(
        embedder_for(ollama_server, dim=768), [], EmbeddingCache(tmp_path / "embeddings.sqlite")
    )

    assert vectors.shape == (0, 768)
    assert vectors.dtype == np.float32
