"""Weekly push claims and the pusher's lease, in Redis beside the profiles.

A user's pushes are a hash of ISO weeks. A week on its way holds its claim,
``@<holder>@<milliseconds>`` by the server's clock; a settled week holds the movie ids
pushed (empty when the user was gone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.models import Delivery, PushHistory, UserRef
from core.stores.profile_hash import ids_of
from core.stores.redis.availability import Gate, unavailable_as_error
from core.stores.redis.client import PIPELINE_CHUNK, Client, as_bytes, read_hashes
from core.stores.redis.keys import RedisKeys
from core.weeks import weeks_apart

_ACQUIRE_LEASE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
"""
_CLAIM = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
    local at = string.match(held, '^@.*@(%d+)$')
    if not at or ms - tonumber(at) < tonumber(ARGV[3]) then return false end
end
local token = '@' .. ARGV[2] .. '@' .. ms
redis.call('HSET', KEYS[1], ARGV[1], token)
return token
"""
_SETTLE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == 'failed' then
    redis.call('HDEL', KEYS[1], ARGV[1])
    return 1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
for i = 6, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""


class RedisPushLedger:
    """Weekly push claims per user (a hash of ISO weeks) and the lease of the pusher."""

    def __init__(self, client: Client, gate: Gate, keys: RedisKeys, remembered_weeks: int) -> None:
        self._client = client
        self._gate = gate
        self._keys = keys
        self._remembered_weeks = remembered_weeks

    async def claim(self, user: UserRef, week: str, holder: str, stale_after: float) -> str | None:
        key, stale_ms = self._keys.pushes(user), int(stale_after * 1000)
        async with unavailable_as_error(self._client, self._gate, f"claim the push of {user.key}"):
            token = await self._client.eval(_CLAIM, 1, key, week, holder, stale_ms)
        return as_bytes(token).decode() if token else None

    async def settle(
        self, user: UserRef, week: str, token: str, delivery: Delivery, movie_ids: Sequence[int]
    ) -> None:
        key = self._keys.pushes(user)
        async with unavailable_as_error(self._client, self._gate, f"settle the push of {user.key}"):
            weeks = [as_bytes(week).decode() for week in await self._client.hkeys(key)]
            old = [w for w in weeks if weeks_apart(w, week) >= self._remembered_weeks]
            ids = ",".join(map(str, movie_ids)) if delivery is Delivery.SENT else ""
            ttl = (self._remembered_weeks + 1) * 7 * 86_400
            await self._client.eval(_SETTLE, 1, key, week, token, delivery.value, ids, ttl, *old)

    async def history(self, users: Sequence[UserRef]) -> list[PushHistory]:
        histories: list[PushHistory] = []
        async with unavailable_as_error(
            self._client, self._gate, f"read {len(users)} push histories"
        ):
            for start in range(0, len(users), PIPELINE_CHUNK):
                keys = [self._keys.pushes(user) for user in users[start : start + PIPELINE_CHUNK]]
                hashes = await read_hashes(self._client, keys)
                histories += [_push_history(fields) for fields in hashes]
        return histories

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        async with unavailable_as_error(self._client, self._gate, "take the push lease"):
            lease, milliseconds = self._keys.push_leader, int(seconds * 1000)
            return bool(await self._client.eval(_ACQUIRE_LEASE, 1, lease, holder, milliseconds))

    async def release_lease(self, holder: str) -> None:
        async with unavailable_as_error(self._client, self._gate, "give up the push lease"):
            await self._client.eval(_RELEASE_LEASE, 1, self._keys.push_leader, holder)


def _push_history(fields: Mapping[bytes, bytes]) -> PushHistory:
    settled = {week: ids for week, ids in fields.items() if not ids.startswith(b"@")}
    weeks = frozenset(week.decode() for week in settled)
    return PushHistory(weeks, frozenset(i for ids in settled.values() for i in ids_of(ids)))
