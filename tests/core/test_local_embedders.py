"""The local models for real: int8 MiniLM on onnxruntime (the default) against the fp32
model on PyTorch, and the checks that keep tampered model files from loading."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import MINILM_DIM, OnnxEmbedder, OnnxFiles, TorchEmbedder, verify_sha256
from core.embedders.onnx import MODEL_SHA256
from core.embedders.packaged import package_dir
from core.embedders.prepared import WEIGHTS_FILE, prepared_model
from core.embedders.torch import MINILM_SHA256, packaged_minilm_dir
from core.errors import EmbedderError
from core.text import document_text


def assert_unit_float32(vectors: np.ndarray) -> None:
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def catalog_texts() -> list[str]:
    """A small fixed set of real texts: the first 60 movies of the bundled sample."""
    return [document_text(movie) for movie in load_catalog(SAMPLE).movies[:60]]


# --- the default: int8 on onnxruntime ---------------------------------------------------


def test_onnx_embedder_vectors(local_embedder: OnnxEmbedder) -> None:
    documents = local_embedder.embed_documents(["Alien", "Heat", "Amélie"])
    query = local_embedder.embed_query("space horror")

    assert local_embedder.name == "local:all-MiniLM-L6-v2-int8"
    assert local_embedder.dim == MINILM_DIM == 384
    assert documents.shape == (3, 384)
    assert query.shape == (384,)
    assert_unit_float32(documents)
    assert_unit_float32(query)
    assert local_embedder.embed_documents([]).shape == (0, 384)


def test_onnx_embedder_ranks_by_meaning(local_embedder: OnnxEmbedder) -> None:
    cop, romance = local_embedder.embed_documents(
        [
            "A New York cop fights a gang of terrorists who have seized a skyscraper.",
            "Two strangers fall in love during a summer in Paris.",
        ]
    )
    query = local_embedder.embed_query("die hard")

    assert float(query @ cop) > float(query @ romance)


def test_batches_by_length_keep_the_order_of_the_texts(catalog_texts: list[str]) -> None:
    texts = ["Alien", *catalog_texts[:7], "Heat", "A heist crew in Los Angeles, one last job."]
    embedder = OnnxEmbedder(batch_size=3)

    batched = embedder.embed_documents(texts)
    one_at_a_time = np.stack([embedder.embed_query(text) for text in texts])

    np.testing.assert_allclose(batched, one_at_a_time, atol=1e-5)


def test_a_text_longer_than_the_model_reads_is_cut(local_embedder: OnnxEmbedder) -> None:
    start = "A detective hunts a killer through a rainy city. "
    long_text = start + "word " * 1000

    assert local_embedder.embed_documents([long_text]).shape == (1, MINILM_DIM)
    assert local_embedder.embed_documents([long_text + "more words"]) == pytest.approx(
        local_embedder.embed_documents([long_text + "other words"]), abs=1e-6
    )


def test_the_prepared_model_embeds_as_the_shipped_one(
    local_embedder: OnnxEmbedder, catalog_texts: list[str]
) -> None:
    as_shipped = OnnxEmbedder()

    np.testing.assert_allclose(
        local_embedder.embed_documents(catalog_texts[:20]),
        as_shipped.embed_documents(catalog_texts[:20]),
        atol=1e-5,
    )


def test_a_damaged_prepared_model_is_prepared_again(tmp_path: Path) -> None:
    source = OnnxFiles.packaged().model
    graph = prepared_model(source, MODEL_SHA256, tmp_path)
    weights = graph.parent / WEIGHTS_FILE
    intact = hashlib.sha256(weights.read_bytes()).hexdigest()
    _tampered_copy(weights, graph.parent)

    again = prepared_model(source, MODEL_SHA256, tmp_path)

    assert again == graph
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == intact
    assert [path.name for path in tmp_path.iterdir()] == [graph.parent.name]


def test_a_model_that_cannot_be_prepared_is_named(tmp_path: Path) -> None:
    not_a_model = tmp_path / "model.onnx"
    not_a_model.write_bytes(b"not a model")

    with pytest.raises(EmbedderError, match="cannot prepare the model"):
        prepared_model(not_a_model, "0" * 64, tmp_path / "prepared")

    assert [path.name for path in (tmp_path / "prepared").iterdir()] == []


def test_onnx_agrees_with_the_fp32_model(
    local_embedder: OnnxEmbedder, torch_embedder: TorchEmbedder, catalog_texts: list[str]
) -> None:
    int8 = local_embedder.embed_documents(catalog_texts)
    fp32 = torch_embedder.embed_documents(catalog_texts)

    cosines = np.sum(int8 * fp32, axis=1)
    assert cosines.mean() >= 0.995
    assert cosines.min() >= 0.98
    assert np.mean(_nearest(int8) == _nearest(fp32)) >= 0.9
    assert torch_embedder.name != local_embedder.name


def _nearest(vectors: np.ndarray) -> np.ndarray:
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    nearest: np.ndarray = similarities.argmax(axis=1)
    return nearest


# --- files are checked before they load ---------------------------------------------------


@pytest.fixture
def sessions_created(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Record any attempt to create an onnxruntime session instead of creating it."""
    onnxruntime = pytest.importorskip("onnxruntime")
    attempts: list[object] = []
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *args, **_: attempts.append(args))
    yield attempts


def _tampered_copy(path: Path, directory: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy = directory / path.name
    copy.write_bytes(data)
    return copy


def test_a_tampered_onnx_model_is_refused(tmp_path: Path, sessions_created: list[object]) -> None:
    packaged = OnnxFiles.packaged()
    files = OnnxFiles(_tampered_copy(packaged.model, tmp_path), packaged.tokenizer)

    with pytest.raises(EmbedderError, match="sha256"):
        OnnxEmbedder(files).embed_query("alien")

    assert sessions_created == []


def test_a_tampered_tokenizer_is_refused(tmp_path: Path, sessions_created: list[object]) -> None:
    packaged = OnnxFiles.packaged()
    files = OnnxFiles(packaged.model, _tampered_copy(packaged.tokenizer, tmp_path))

    with pytest.raises(EmbedderError, match="sha256"):
        OnnxEmbedder(files).embed_documents(["alien"])

    assert sessions_created == []


def test_a_missing_onnx_model_is_named(tmp_path: Path, sessions_created: list[object]) -> None:
    files = OnnxFiles(tmp_path / "model.onnx", OnnxFiles.packaged().tokenizer)

    with pytest.raises(EmbedderError, match="model file not found"):
        OnnxEmbedder(files).embed_query("alien")

    assert sessions_created == []


def test_a_package_that_is_not_installed_says_how_to_install_it() -> None:
    with pytest.raises(EmbedderError, match="moviebot_absent_model is not installed: pip x"):
        package_dir("moviebot_absent_model", "pip x")


def test_verify_sha256(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"weights")
    right = hashlib.sha256(b"weights").hexdigest()

    verify_sha256(path, right)
    with pytest.raises(EmbedderError, match=right) as caught:
        verify_sha256(path, MINILM_SHA256)
    assert MINILM_SHA256 in str(caught.value)
    with pytest.raises(EmbedderError, match="not found"):
        verify_sha256(tmp_path / "absent.bin", right)


# --- the fp32 model on PyTorch ------------------------------------------------------------


def test_torch_embedder_vectors(torch_embedder: TorchEmbedder) -> None:
    documents = torch_embedder.embed_documents(["Alien", "Heat"])

    assert torch_embedder.name == "local:all-MiniLM-L6-v2"
    assert documents.shape == (2, MINILM_DIM)
    assert_unit_float32(documents)
    assert torch_embedder.embed_documents([]).shape == (0, MINILM_DIM)


@pytest.fixture
def no_model_loading(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Record any attempt to construct a SentenceTransformer instead of loading it."""
    sentence_transformers = pytest.importorskip(
        "sentence_transformers", reason="the fp32 model needs the torch extra"
    )
    attempts: list[object] = []
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", attempts.append)
    yield attempts


def test_torch_embedder_refuses_tampered_weights(
    tmp_path: Path, no_model_loading: list[object]
) -> None:
    packaged = packaged_minilm_dir()
    shutil.copytree(packaged, tmp_path / "model", ignore=shutil.ignore_patterns("*.safetensors"))
    _tampered_copy(packaged / "model.safetensors", tmp_path / "model")

    with pytest.raises(EmbedderError, match="sha256"):
        TorchEmbedder(model_dir=tmp_path / "model").embed_query("alien")

    assert no_model_loading == []


def test_torch_embedder_without_weights_raises(
    tmp_path: Path, no_model_loading: list[object]
) -> None:
    with pytest.raises(EmbedderError, match="model file not found"):
        TorchEmbedder(model_dir=tmp_path).embed_documents(["alien"])

    assert no_model_loading == []
