"""The Redis server on 127.0.0.1:6379 that tests and benchmarks share, each under a key
prefix of its own that is deleted afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from core.stores.redis import RedisProfileStore

LOCAL_REDIS = "redis://127.0.0.1:6379/0"


@asynccontextmanager
async def local_redis_store(prefix: str) -> AsyncIterator[RedisProfileStore]:
    """A RedisProfileStore on the local server; its keys are deleted when it closes."""
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    try:
        yield store
    finally:
        await store.close()
        await delete_prefix(prefix)


async def delete_prefix(prefix: str, url: str = LOCAL_REDIS) -> None:
    """Delete every key of the server at ``url`` that starts with ``prefix:``."""
    client = Redis.from_url(url)
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.delete(key)
    await client.aclose()
