"""Stores under test: the in-memory one, Redis on 127.0.0.1:6379 with a key prefix of
the test's own (deleted afterwards), and the session's Redis Cluster (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio import RedisCluster as ClusterClient

from core.ports import ProfileStore
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from testing.local_redis import LOCAL_REDIS, delete_prefix, local_redis_store


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


class ManualClock:
    """A clock that moves only when the test moves it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["memory", "redis", "cluster"])
async def clocked_store(
    request: pytest.FixtureRequest, prefix: str, clock: ManualClock
) -> AsyncIterator[ProfileStore]:
    """Each ProfileStore implementation in turn, telling the time by ``clock``."""
    if request.param == "memory":
        yield MemoryProfileStore(clock=clock)
        return
    if request.param == "redis":
        client: Redis | ClusterClient = Redis.from_url(LOCAL_REDIS)
    else:
        client = ClusterClient.from_url(request.getfixturevalue("redis_cluster").url)
    redis_store = RedisProfileStore(client, prefix=prefix, clock=clock)
    yield redis_store
    await redis_store.close()
    await delete_prefix(prefix)
