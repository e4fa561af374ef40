"""The sample catalog's shipped vectors: used only when made by the same model from the
same texts, and kept up to date with the default model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import OnnxEmbedder
from core.sample import VECTORS_FILE, shipped_vectors, write_shipped_vectors
from core.text import document_text

TEXTS = ["Alien", "Heat", "Amélie"]


@pytest.fixture
def written(tmp_path: Path) -> np.ndarray:
    vectors = np.random.default_rng(0).random((len(TEXTS), 8), dtype=np.float32)
    write_shipped_vectors("model-a", TEXTS, vectors, tmp_path)
    return vectors


def test_vectors_come_back_for_the_same_model_and_texts(
    tmp_path: Path, written: np.ndarray
) -> None:
    found = shipped_vectors("model-a", TEXTS, tmp_path)

    assert found is not None and found.dtype == np.float32
    np.testing.assert_array_equal(found, written)


@pytest.mark.parametrize(
    ("model", "texts"),
    [
        ("model-b", TEXTS),
        ("model-a", ["Alien", "Heat", "Amelie"]),
        ("model-a", TEXTS[:2]),
        ("model-a", list(reversed(TEXTS))),
    ],
)
def test_another_model_or_other_texts_get_none(
    tmp_path: Path, written: np.ndarray, model: str, texts: list[str]
) -> None:
    assert shipped_vectors(model, texts, tmp_path) is None


def test_damaged_or_missing_files_get_none(tmp_path: Path, written: np.ndarray) -> None:
    data = bytearray((tmp_path / VECTORS_FILE).read_bytes())
    data[5] ^= 0x01
    (tmp_path / VECTORS_FILE).write_bytes(data)

    assert shipped_vectors("model-a", TEXTS, tmp_path) is None
    assert shipped_vectors("model-a", TEXTS, tmp_path / "absent") is None


def test_the_shipped_vectors_are_the_default_models_of_the_sample(
    local_embedder: OnnxEmbedder,
) -> None:
    texts = [document_text(movie) for movie in load_catalog(SAMPLE).movies]

    shipped = shipped_vectors(local_embedder.name, texts)

    assert shipped is not None, "run `moviebot ship-sample-vectors` after changing the sample"
    cosines = np.sum(shipped * local_embedder.embed_documents(texts), axis=1)
    assert cosines.min() > 0.9999
