"""The counts shared by all users, read and seeded: how many users picked each movie,
and which movies were picked close together (see :mod:`core.community`)."""

from __future__ import annotations

from collections.abc import Sequence

from core.community import CoPickSettings, seeded_changes
from core.stores.redis.client import Client, bytes_hash
from core.stores.redis.global_keys import (
    commit_with_global_keys,
    move_co_picks,
    move_pick_counts,
)
from core.stores.redis.keys import RedisKeys

# Ids go to HMGET as one comma-separated argument: a recommendation reads the counts of
# about 2,000 candidates, and redis-py spent 4 ms of a 15 ms /recommend encoding them one
# argument each (measured with cProfile, benchmarks/bench_recommend.py). Lua's unpack
# takes at most 8,000 values.
PACKED_IDS = 5_000
_HMGET_PACKED = """
local ids = {}
for id in string.gmatch(ARGV[1], '[^,]+') do ids[#ids + 1] = id end
return redis.call('HMGET', KEYS[1], unpack(ids))
"""
SEED_CHUNK = 100  # histories per transaction: about 30,000 pair counts, well within a timeout


async def read_pick_counts(
    client: Client, keys: RedisKeys, movie_ids: Sequence[int]
) -> tuple[int, ...]:
    """How many users have each movie among their picks, in input order."""
    counts: list[bytes | None] = []
    for start in range(0, len(movie_ids), PACKED_IDS):
        packed = ",".join(str(i) for i in movie_ids[start : start + PACKED_IDS])
        counts += await client.eval(_HMGET_PACKED, 1, keys.pick_counts, packed)
    return tuple(max(int(count), 0) if count is not None else 0 for count in counts)


async def read_co_picks(
    client: Client, keys: RedisKeys, movie_ids: Sequence[int]
) -> list[dict[int, int]]:
    """Each movie's co-pick neighbours with their counts, in one pipeline."""
    async with client.pipeline(transaction=False) as reads:
        for movie_id in movie_ids:
            reads.hgetall(keys.co_picks(movie_id))
        replies = await reads.execute()
    return [
        {int(other): int(count) for other, count in bytes_hash(reply).items()} for reply in replies
    ]


async def seed_chunk(
    client: Client,
    keys: RedisKeys,
    settings: CoPickSettings,
    chunk: str,
    histories: Sequence[Sequence[int]],
) -> bool:
    """Add the counts of ``histories`` unless ``chunk`` was added before: the chunk is
    recorded in the transaction that adds its counts (on a cluster, the counts follow
    the record right after). ``False`` when it was added before."""
    pairs, picks = seeded_changes(histories, settings.window)
    sources = keys.community_sources
    async with client.pipeline(transaction=True) as transaction:
        await transaction.watch(sources)
        if await transaction.sismember(sources, chunk):
            return False
        transaction.multi()  # type: ignore[no-untyped-call]
        transaction.sadd(sources, chunk)
        async with commit_with_global_keys(client, transaction) as global_keys:
            move_pick_counts(global_keys, keys, picks)
            move_co_picks(global_keys, client, keys, pairs, settings)
    return True
