"""A per-user rate limit that every process serving the bot shares, beside the profiles."""

from __future__ import annotations

import logging
import secrets

from core.errors import StoreUnavailableError
from core.models import UserRef
from core.stores.redis.availability import Gate, unavailable_as_error
from core.stores.redis.client import Client
from core.stores.redis.keys import RedisKeys

log = logging.getLogger(__name__)

# A sorted set of the user's recent requests scored by Redis's own clock (so processes on
# several hosts agree): drop those out of the window, then add this one if there is room.
_ALLOW = """
local now = redis.call('TIME')
local micros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', micros - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], micros, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 1
"""


class RedisRateLimit:
    """At most ``limit`` requests named ``name`` per user in any ``window`` seconds,
    counted in Redis. When Redis cannot answer, the request is allowed: a limit must
    not silence the bot."""

    def __init__(
        self, client: Client, gate: Gate, keys: RedisKeys, name: str, limit: int, window: float
    ) -> None:
        self._client, self._gate, self._keys = client, gate, keys
        self._name, self._limit, self._window_micros = name, limit, int(window * 1_000_000)

    async def allow(self, user: UserRef) -> bool:
        """Count a request of ``user``; ``False`` when they are over the limit."""
        key = self._keys.rate(user, self._name)
        try:
            async with unavailable_as_error(self._client, self._gate, f"count {key}"):
                member = secrets.token_hex(8)
                args = (self._limit, self._window_micros, member)
                return bool(await self._client.eval(_ALLOW, 1, key, *args))
        except StoreUnavailableError as error:
            log.warning("rate limit not checked: %s", error)
            return True
