"""When Redis cannot serve: which errors mean it, retries of reads, backoff after
conflicts, and the one-time start of a cluster client."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import (
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import StoreFullError, StoreUnavailableError
from core.stores.redis.client import Client

T = TypeVar("T")
Gate = AbstractAsyncContextManager[Any]

CONFLICT_ATTEMPTS = 50
CONFLICT_BACKOFF_SECONDS = 0.001
CONFLICT_BACKOFF_CAP_SECONDS = 0.05
READ_RETRY_DELAYS = (0.1, 0.3)

_UNAVAILABLE_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    TryAgainError,
    ClusterDownError,
)
_UNAVAILABLE_REPLIES = ("MISCONF", "NOREPLICAS")
FULL_SHARE = 0.98  # of maxmemory: past it a write of a few KB may already be refused


@asynccontextmanager
async def unavailable_as_error(client: Client, gate: Gate, action: str) -> AsyncIterator[None]:
    """Within ``gate``, turn Redis errors that mean "cannot serve now" into
    :class:`StoreUnavailableError`."""
    try:
        async with gate:
            yield
    except RedisError as error:
        if not is_unavailable(error):
            raise
        if isinstance(error, OutOfMemoryError):
            raise StoreFullError(
                f"could not {action}: Redis at {_address(client)} is at its memory limit "
                "(maxmemory); nothing was written"
            ) from error
        await drop_idle_connections(client, error)
        raise StoreUnavailableError(
            f"could not {action}: Redis at {_address(client)} is unreachable or too slow "
            f"({error}); try again in a minute"
        ) from error


async def read_with_retries(
    client: Client, gate: Gate, action: str, read: Callable[[], Awaitable[T]]
) -> T:
    """``read()``, retried after each of ``READ_RETRY_DELAYS`` while Redis is unavailable."""
    async with unavailable_as_error(client, gate, action):
        for delay in READ_RETRY_DELAYS:
            try:
                return await read()
            except RedisError as error:
                if not is_unavailable(error):
                    raise
                await drop_idle_connections(client, error)
            await asyncio.sleep(delay)
        return await read()


async def drop_idle_connections(client: Client, error: RedisError) -> None:
    """After a lost connection, close the idle ones too: after a restart of Redis they are
    all dead, and the next caller would get one of them. (A cluster client finds its
    nodes again by itself.)"""
    if isinstance(client, Redis) and isinstance(error, RedisConnectionError | RedisTimeoutError):
        await client.connection_pool.disconnect(inuse_connections=False)


def is_unavailable(error: RedisError) -> bool:
    """Whether the error says Redis cannot serve now, rather than that the request is wrong."""
    if isinstance(error, _UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, ResponseError) and str(error).startswith(_UNAVAILABLE_REPLIES)


def conflict_backoff(attempt: int) -> float:
    """A random pause before ``attempt`` is tried again, doubling its cap each time."""
    cap = min(CONFLICT_BACKOFF_CAP_SECONDS, CONFLICT_BACKOFF_SECONDS * 2**attempt)
    return random.uniform(0, cap)


def start_gate(client: Client) -> Gate:
    """What every call of the store passes through: nothing on one server; on a cluster,
    a first call that initializes the client alone (see :class:`ClusterStart`)."""
    return ClusterStart(client) if isinstance(client, RedisCluster) else nullcontext()


class ClusterStart:
    """Initializes a cluster client once, before its first call. redis-py's asyncio
    cluster client (8.1) breaks connections (``'NoneType' object has no attribute
    'writelines'``) when several first calls initialize it at once: 16 concurrent
    first calls failed 3 times in 4 here, and never once it was initialized."""

    def __init__(self, client: RedisCluster) -> None:
        self._client = client
        self._lock = asyncio.Lock()
        self._started = False

    async def __aenter__(self) -> None:
        if not self._started:
            async with self._lock:
                if not self._started:
                    await self._client.initialize()
                    self._started = True

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def _address(client: Client) -> str:
    if isinstance(client, RedisCluster):
        return "the cluster"
    options: dict[str, Any] = client.connection_pool.connection_kwargs
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def at_memory_limit(memory: Mapping[str, Any]) -> bool:
    """Whether INFO memory (of one server, or of each node of a cluster) shows used memory
    at the configured limit."""
    nodes = [memory] if "used_memory" in memory else list(memory.values())
    return any(
        int(node.get("maxmemory", 0)) > 0
        and int(node["used_memory"]) >= FULL_SHARE * int(node["maxmemory"])
        for node in nodes
        if isinstance(node, Mapping) and "used_memory" in node
    )
