"""Embedding models. All return L2-normalized float32 vectors, so inner product is cosine.

- :class:`OnnxEmbedder`: all-MiniLM-L6-v2 with int8 weights on onnxruntime, offline; the
  default, installed with the project.
- :class:`TorchEmbedder`: the same model in fp32 on PyTorch, for exact parity with
  sentence-transformers; the ``torch`` extra.
- :class:`OllamaEmbedder`: any model on an Ollama server (``nomic-embed-text`` in
  production, ``bge-m3`` or ``paraphrase-multilingual`` for other languages than English).
"""

from core.embedders.ollama import OllamaEmbedder
from core.embedders.onnx import OnnxEmbedder, OnnxFiles
from core.embedders.packaged import verify_sha256
from core.embedders.torch import TorchEmbedder
from core.embedders.vectors import MINILM_DIM, normalized

__all__ = [
    "MINILM_DIM",
    "OllamaEmbedder",
    "OnnxEmbedder",
    "OnnxFiles",
    "TorchEmbedder",
    "normalized",
    "verify_sha256",
]
