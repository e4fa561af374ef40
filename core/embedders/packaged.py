"""Model files that come in Python packages: found without importing the package,
checked byte for byte before they are loaded, and loaded once."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Generic, TypeVar

from core.errors import EmbedderError

T = TypeVar("T")


def package_dir(package: str, install_hint: str) -> Path:
    """The folder of an installed package, which is never imported (some model packages
    import heavy libraries on import)."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(f"the package {package} is not installed: {install_hint}")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def verify_sha256(path: Path, sha256: str) -> None:
    """Raise :class:`EmbedderError` unless ``path`` holds exactly the expected bytes."""
    if not path.is_file():
        raise EmbedderError(f"model file not found at {path}")
    with path.open("rb") as stream:
        actual = hashlib.file_digest(stream, "sha256").hexdigest()
    if actual != sha256:
        raise EmbedderError(
            f"refusing to load {path}: its sha256 {actual} is not the published {sha256}"
        )


class LoadedOnce(Generic[T]):
    """A model loaded on first use, once, even when several threads ask at the same time."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._load()
            return self._value
