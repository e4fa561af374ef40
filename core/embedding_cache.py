"""An on-disk cache of document embeddings keyed by (model, sha256 of the text).

Rebuilding an index after adding ten movies embeds only those ten.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from core.errors import EmbedderError
from core.models import Vectors
from core.ports import Embedder

ProgressCallback = Callable[[int, int], None]
"""Called with (texts embedded so far, total texts)."""

CHUNK_SIZE = 64


class EmbeddingCache:
    """A SQLite file mapping (model name, text hash) to a float32 little-endian vector."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                "model TEXT NOT NULL, text_sha256 TEXT NOT NULL, vector BLOB NOT NULL, "
                "PRIMARY KEY (model, text_sha256))"
            )

    def lookup(self, model: str, dim: int | None, texts: Sequence[str]) -> list[Vectors | None]:
        """Cached vectors in the order of ``texts``; ``None`` where missing or malformed
        (of another length than ``dim``, when it is known)."""
        keys = [_text_key(text) for text in texts]
        found: dict[str, bytes] = {}
        with closing(self._connect()) as db:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                rows = db.execute(
                    "SELECT text_sha256, vector FROM embeddings "
                    f"WHERE model = ? AND text_sha256 IN ({marks})",
                    [model, *batch],
                )
                found.update(rows)
        return [_decode(found.get(key), dim) for key in keys]

    def store(self, model: str, texts: Sequence[str], vectors: Vectors) -> None:
        """Remember the vectors of ``texts`` for ``model``."""
        rows = [
            (model, _text_key(text), np.asarray(vector, "<f4").tobytes())
            for text, vector in zip(texts, vectors, strict=True)
        ]
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=30)


def embed_documents_cached(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    on_progress: ProgressCallback | None = None,
) -> Vectors:
    """Embed ``texts``, taking what the cache holds and embedding only the rest.

    Raises:
        EmbedderError: the vectors of one model differ in length (a model replaced under
            the same name, with a cache of the old one).
    """
    vectors = cache.lookup(embedder.name, embedder.dim, texts) if cache else [None] * len(texts)
    missing = [position for position, vector in enumerate(vectors) if vector is None]
    done = len(texts) - len(missing)
    if on_progress:
        on_progress(done, len(texts))
    for start in range(0, len(missing), CHUNK_SIZE):
        positions = missing[start : start + CHUNK_SIZE]
        chunk = [texts[position] for position in positions]
        embedded = embedder.embed_documents(chunk)
        if cache:
            cache.store(embedder.name, chunk, embedded)
        for position, vector in zip(positions, embedded, strict=True):
            vectors[position] = vector
        done += len(positions)
        if on_progress:
            on_progress(done, len(texts))
    if not texts:
        return np.empty((0, embedder.dim or 0), np.float32)
    return _stacked([vector for vector in vectors if vector is not None], embedder.name)


def _stacked(vectors: list[Vectors], model: str) -> Vectors:
    if len({len(vector) for vector in vectors}) > 1:
        raise EmbedderError(
            f"the cached embeddings of {model} differ in length: delete the embedding cache"
        )
    return np.ascontiguousarray(np.stack(vectors), np.float32)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _decode(blob: bytes | None, dim: int | None) -> Vectors | None:
    if blob is None or not blob or len(blob) % 4 or (dim is not None and len(blob) != 4 * dim):
        return None
    vector = np.frombuffer(blob, dtype="<f4").astype(np.float32)
    return vector if np.all(np.isfinite(vector)) else None
