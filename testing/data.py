"""Movies for tests: made up, with random vectors, or the real files of ../shared/data
when they are there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.models import Movie

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_file(name: str) -> Path:
    """A file of ../shared/data, or skip the test when the folder is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: real data comes with ../shared, not with the clone")
    return path


def random_movies(count: int, dim: int = 16, seed: int = 0) -> tuple[list[Movie], np.ndarray]:
    """``count`` made-up movies with random unit vectors, for index tests without a model."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    movies = [
        Movie(movie_id=1000 + i, title=f"Movie {i}", year=1950 + i % 70) for i in range(count)
    ]
    return movies, vectors
