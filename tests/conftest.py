"""Fixtures shared by every test: the bundled sample index, a local Redis Cluster and a
key prefix of the test's own on the local Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import LocalEmbedder
from core.embedding_cache import EmbeddingCache
from core.index import MovieIndex, build_index
from testing.local_redis import delete_prefix
from testing.redis_servers import RedisCluster


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
