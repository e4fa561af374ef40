"""The keys shared by all users (pick counts, co-pick counts, subscribers) that a user's
write moves too, and where those commands go: into the user's transaction on one server,
right after it on a cluster (see the package docstring)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import RedisCluster

from core.community import CoPickChanges, CoPickSettings
from core.stores.redis.client import AnyPipeline, Client
from core.stores.redis.keys import RedisKeys

KEYS_PER_EVAL = 200

_HINCRBY_EACH = """
for i = 1, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
"""

# ARGV: neighbours kept, trim above; then per key: its pair count, then (neighbour, delta)
# pairs. A count that falls to zero or below is deleted; a hash past the trim limit keeps
# its strongest pairs (ties: the smaller id), as core.community.strongest does.
_MOVE_CO_PICKS = """
local keep, above, at = tonumber(ARGV[1]), tonumber(ARGV[2]), 3
for k = 1, #KEYS do
    for _ = 1, tonumber(ARGV[at]) do
        if redis.call('HINCRBY', KEYS[k], ARGV[at + 1], ARGV[at + 2]) <= 0 then
            redis.call('HDEL', KEYS[k], ARGV[at + 1])
        end
        at = at + 2
    end
    at = at + 1
    if redis.call('HLEN', KEYS[k]) > above then
        local flat, pairs = redis.call('HGETALL', KEYS[k]), {}
        for i = 1, #flat, 2 do
            pairs[#pairs + 1] = {flat[i], tonumber(flat[i + 1])}
        end
        table.sort(pairs, function(a, b)
            if a[2] ~= b[2] then return a[2] > b[2] end
            return tonumber(a[1]) < tonumber(b[1])
        end)
        for i = keep + 1, #pairs do
            redis.call('HDEL', KEYS[k], pairs[i][1])
        end
    end
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


def move_co_picks(
    pipe: AnyPipeline,
    client: Client,
    keys: RedisKeys,
    changes: CoPickChanges,
    settings: CoPickSettings,
) -> None:
    """Move the co-pick counts of many movies in few commands: one EVAL for up to
    ``KEYS_PER_EVAL`` movies on one server, one per movie on a cluster (each movie's
    hash has a slot of its own)."""
    per_eval = 1 if isinstance(client, RedisCluster) else KEYS_PER_EVAL
    moves = [(keys.co_picks(movie), moved) for movie, moved in changes.items() if moved]
    for start in range(0, len(moves), per_eval):
        chunk = moves[start : start + per_eval]
        arguments: list[str | int] = [settings.neighbours, settings.trim_above]
        for _, moved in chunk:
            arguments.append(len(moved))
            arguments.extend(str(value) for item in moved.items() for value in item)
        pipe.eval(_MOVE_CO_PICKS, len(chunk), *(key for key, _ in chunk), *arguments)
