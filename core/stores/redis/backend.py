"""Profiles, push records and shown lists in Redis, as the wiring holds them."""

from __future__ import annotations

from core.errors import StoreUnavailableError
from core.stores.redis.ledger import RedisPushLedger
from core.stores.redis.lists import RedisListStore
from core.stores.redis.store import RedisProfileStore


class RedisBackend:
    """A :class:`RedisProfileStore`, the push ledger and the shown lists on the same server
    and prefix."""

    def __init__(self, store: RedisProfileStore) -> None:
        self.store = store
        self.push_ledger: RedisPushLedger = store.push_ledger()
        self.lists: RedisListStore = store.shown_lists()

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
