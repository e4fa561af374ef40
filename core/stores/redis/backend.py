"""Profiles and push records in Redis, as the wiring holds them."""

from __future__ import annotations

from core.errors import StoreUnavailableError
from core.stores.redis.ledger import RedisPushLedger
from core.stores.redis.store import RedisProfileStore


class RedisBackend:
    """A :class:`RedisProfileStore` and the push ledger on the same server and prefix."""

    def __init__(self, store: RedisProfileStore) -> None:
        self.store = store
        self.push_ledger: RedisPushLedger = store.push_ledger()

    async def readiness(self) -> StoreUnavailableError | None:
        """``None`` when Redis answers and has room, else why it cannot serve."""
        try:
            await self.store.ping()
        except StoreUnavailableError as error:
            return error
        return None

    async def close(self) -> None:
        """Close every connection of the store and the ledger."""
        await self.store.close()
