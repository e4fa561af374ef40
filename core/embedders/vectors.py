"""What every embedder returns: L2-normalized float32 rows, so inner product is cosine."""

from __future__ import annotations

import numpy as np

from core.errors import EmbedderError
from core.models import Vectors

MINILM_DIM = 384


def normalized(vectors: np.ndarray) -> Vectors:
    """Return float32 rows scaled to unit length; rows of zeros or non-finite values fail."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise EmbedderError("the embedding model returned an empty or non-finite vector")
    return np.ascontiguousarray(array / norms, dtype=np.float32)
