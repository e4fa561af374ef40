"""The bundled sample catalog's vectors for the default model, shipped beside the catalog
so that the demo's first search needs no indexing.

A fingerprint of the model name and of every document text says what the vectors were
made from: when the catalog, the document template or the model differ, the shipped
vectors are not used and the catalog is embedded as any other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from core.models import Vectors

VECTORS_FILE = "sample_vectors.f32"
MANIFEST_FILE = "sample_vectors.json"


def shipped_directory() -> Path:
    """The folder of the bundled sample catalog and its vectors."""
    return Path(str(resources.files("core.data")))


def sample_fingerprint(embedder_name: str, texts: Sequence[str]) -> str:
    """A hash of the model and of each document text, in order."""
    digest = hashlib.sha256(embedder_name.encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode()).digest())
    return digest.hexdigest()


def shipped_vectors(
    embedder_name: str, texts: Sequence[str], directory: Path | None = None
) -> Vectors | None:
    """The shipped vectors of ``texts`` by ``embedder_name``, or ``None`` when the files
    were made from other texts or by another model, or are missing or damaged."""
    directory = directory or shipped_directory()
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        data = (directory / VECTORS_FILE).read_bytes()
    except (OSError, ValueError):
        return None
    if (
        manifest.get("fingerprint") != sample_fingerprint(embedder_name, texts)
        or manifest.get("sha256") != hashlib.sha256(data).hexdigest()
        or len(data) != 4 * len(texts) * manifest.get("dim", 0)
    ):
        return None
    return np.frombuffer(data, "<f4").reshape(len(texts), -1).astype(np.float32)


def write_shipped_vectors(
    embedder_name: str, texts: Sequence[str], vectors: Vectors, directory: Path | None = None
) -> Path:
    """Write the vectors of ``texts`` with their fingerprint; returns the vectors file."""
    directory = directory or shipped_directory()
    data = np.ascontiguousarray(vectors, "<f4").tobytes()
    (directory / VECTORS_FILE).write_bytes(data)
    manifest = {
        "embedder": embedder_name,
        "dim": int(vectors.shape[1]),
        "count": len(texts),
        "fingerprint": sample_fingerprint(embedder_name, texts),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return directory / VECTORS_FILE
