"""The keys shared by all users (pick counts, subscribers) that a user's write moves too,
and where those commands go: into the user's transaction on one server, right after it
on a cluster (see the package docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import RedisCluster

from core.stores.redis.client import AnyPipeline, Client
from core.stores.redis.keys import RedisKeys

_HINCRBY_EACH = """
for i = 1, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
"""


@asynccontextmanager
async def commit_with_global_keys(
    client: Client, transaction: AnyPipeline
) -> AsyncIterator[AnyPipeline]:
    """Yield the pipeline to queue commands on global keys in, then run ``transaction``.

    On one server the commands go inside the transaction's MULTI. On a cluster a
    transaction keeps to one slot, so they run in a pipeline right after its EXEC.
    """
    if not isinstance(client, RedisCluster):
        yield transaction
        await transaction.execute()
        return
    async with client.pipeline(transaction=False) as after:
        yield after
        await transaction.execute()
        await after.execute()


def pick_count_changes(before: Sequence[int], after: Sequence[int]) -> dict[int, int]:
    """+1 for each movie that joined the picks, -1 for each that left them."""
    old, new = set(before), set(after)
    return {**dict.fromkeys(new - old, 1), **dict.fromkeys(old - new, -1)}


def move_pick_counts(pipe: AnyPipeline, keys: RedisKeys, changes: Mapping[int, int]) -> None:
    """One command for the whole batch; a HINCRBY each would cost a command per pick."""
    arguments = [str(value) for item in changes.items() if item[1] for value in item]
    if arguments:
        pipe.eval(_HINCRBY_EACH, 1, keys.pick_counts, *arguments)
