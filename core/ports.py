"""The small interfaces the core depends on; adapters and stores implement them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns text into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """A stable identifier of the model, e.g. ``local:all-MiniLM-L6-v2``."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector this embedder returns."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed catalog texts.

        Args:
            texts: the documents, one per movie.

        Returns:
            An array of shape ``(len(texts), dim)``, each row of unit length.
        """
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query into a unit vector of shape ``(dim,)``."""
        ...
