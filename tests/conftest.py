"""Fixtures shared by every test: the bundled sample index, the real data folder and a
local Redis Cluster."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import LocalEmbedder
from core.embedding_cache import EmbeddingCache
from core.index import MovieIndex, build_index
from core.models import Movie
from testing.local_redis import delete_prefix
from testing.redis_servers import RedisCluster

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_file(name: str) -> Path:
    """A file of ../shared/data, or skip the test when the folder is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: real data comes with ../shared, not with the clone")
    return path


@pytest.fixture(scope="session")
def local_embedder() -> LocalEmbedder:
    """The packaged MiniLM model, loaded once for the whole run."""
    return LocalEmbedder()


@pytest.fixture(scope="session")
def sample_index_dir(
    tmp_path_factory: pytest.TempPathFactory, local_embedder: LocalEmbedder
) -> Path:
    """The bundled sample catalog embedded for real and saved once per run."""
    root = tmp_path_factory.mktemp("sample")
    cache = EmbeddingCache(root / "embeddings.sqlite")
    build_index(load_catalog(SAMPLE), local_embedder, cache=cache).save(root / "index")
    return root / "index"


@pytest.fixture(scope="session")
def sample_index(sample_index_dir: Path) -> MovieIndex:
    return MovieIndex.load(sample_index_dir)


def random_movies(count: int, dim: int = 16, seed: int = 0) -> tuple[list[Movie], np.ndarray]:
    """``count`` made-up movies with random unit vectors, for index tests without a model."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    movies = [
        Movie(movie_id=1000 + i, title=f"Movie {i}", year=1950 + i % 70) for i in range(count)
    ]
    return movies, vectors


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A Redis Cluster of three local nodes, started once per session."""
    cluster = RedisCluster(Path(tmp_path_factory.mktemp("cluster")))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of the test's own on the local Redis; its keys are deleted after."""
    name = f"moviebot-test-{uuid.uuid4().hex[:12]}"
    yield name
    await delete_prefix(name)
