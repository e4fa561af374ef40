"""Stores under test: the in-memory one, Redis on 127.0.0.1:6379 with a key prefix of
the test's own (deleted afterwards), and the session's Redis Cluster (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from core.ports import ProfileStore
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from testing.local_redis import local_redis_store


@pytest.fixture
def prefix() -> str:
    return f"moviebot-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_store(prefix: str) -> AsyncIterator[RedisProfileStore]:
    async with local_redis_store(prefix) as store:
        yield store


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[ProfileStore]:
    """Each ProfileStore implementation in turn, for the contract tests."""
    if request.param == "memory":
        yield MemoryProfileStore()
    elif request.param == "redis":
        async with local_redis_store(prefix) as redis_store:
            yield redis_store
    else:
        cluster = request.getfixturevalue("redis_cluster")
        cluster_store = RedisProfileStore.from_url(cluster.url, prefix=prefix, cluster=True)
        yield cluster_store
        await cluster_store.close()
