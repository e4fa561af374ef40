"""The client every part of the store shares, and how its replies read: it never
decodes, so keys, fields and values come back as bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline

Client = Redis | RedisCluster
AnyPipeline = Pipeline | ClusterPipeline
PIPELINE_CHUNK = 1_000


def bytes_hash(reply: Mapping[bytes | str, bytes | str]) -> dict[bytes, bytes]:
    """A hash as the store's client returns it: everything is bytes."""
    return cast(dict[bytes, bytes], reply)


def as_bytes(reply: bytes | str) -> bytes:
    return cast(bytes, reply)


async def read_hashes(client: Client, keys: Sequence[str | bytes]) -> list[dict[bytes, bytes]]:
    """HGETALL of every key, in one round trip."""
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        return [bytes_hash(fields) for fields in await pipe.execute()]
