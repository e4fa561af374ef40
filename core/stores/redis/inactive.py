"""Which stored users have been inactive for long: their profile's ``active_at`` (the
time of its last change) is older than a cutoff. A profile written before that field
existed counts from its last pick, and without one it is stamped now."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

from core.models import UserRef
from core.stores.profile_hash import ACTIVE_AT
from core.stores.redis.availability import Gate, unavailable_as_error
from core.stores.redis.client import Client
from core.stores.redis.keys import RedisKeys

BATCH = 1_000
_LAST_PICK_AT = b"last_pick_at"
_STAMP = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) end
"""


async def batches(users: AsyncIterator[UserRef], size: int = BATCH) -> AsyncIterator[list[UserRef]]:
    """``users`` in lists of ``size`` (the last one shorter)."""
    batch: list[UserRef] = []
    async for user in users:
        batch.append(user)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def inactive_among(
    client: Client, gate: Gate, keys: RedisKeys, users: Sequence[UserRef], before: float
) -> list[UserRef]:
    """The users of ``users`` whose profile last changed before ``before``, read in one
    round trip; profiles with no time at all are stamped with the current time."""
    profile_keys = [keys.profile(user) for user in users]
    async with unavailable_as_error(client, gate, f"read when {len(users)} users were active"):
        async with client.pipeline(transaction=False) as reads:
            for key in profile_keys:
                reads.hmget(key, [ACTIVE_AT, _LAST_PICK_AT])
            times = await reads.execute()
        stamped = zip(profile_keys, times, strict=True)
        unstamped = [key for key, (active, picked) in stamped if not (active or picked)]
        if unstamped:
            async with client.pipeline(transaction=False) as stamps:
                for key in unstamped:
                    stamps.eval(_STAMP, 1, key, ACTIVE_AT, str(int(time.time())))
                await stamps.execute()
    return [
        user
        for user, (active, picked) in zip(users, times, strict=True)
        if (active or picked) and float(active or picked) < before
    ]
