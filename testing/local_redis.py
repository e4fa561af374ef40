"""The Redis server that tests and benchmarks share, each under a key prefix of its own
that is deleted afterwards: ``MOVIEBOT_TEST_REDIS_URL``, by default 127.0.0.1:6379.
On a machine where nothing answers there, the test suite starts one of its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from redis.asyncio import Redis

from core.stores.redis import RedisProfileStore
from testing.redis_servers import RedisServer, answers

LOCAL_REDIS = os.environ.get("MOVIEBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LOOPBACK = ("127.0.0.1", "localhost")


def local_redis_answers() -> bool:
    """Whether a server answers at ``LOCAL_REDIS``."""
    address = urlsplit(LOCAL_REDIS)
    return answers(address.hostname or "127.0.0.1", address.port or 6379)


def start_local_redis(directory: Path) -> RedisServer:
    """A server of its own at ``LOCAL_REDIS``'s port on 127.0.0.1, keeping nothing on disk.

    Raises:
        RuntimeError: ``LOCAL_REDIS`` is not on this machine, or the server did not start.
    """
    address = urlsplit(LOCAL_REDIS)
    if address.hostname not in LOOPBACK:
        raise RuntimeError(f"nothing answers at {LOCAL_REDIS}, and it is not on this machine")
    server = RedisServer(directory, "--save", "", "--appendonly", "no", port=address.port or 6379)
    server.start()
    return server


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
