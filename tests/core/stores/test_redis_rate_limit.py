"""The per-user rate limit in Redis: shared by every process on the same server and prefix."""

from __future__ import annotations

import asyncio

from core.models import UserRef
from core.stores.redis import RedisProfileStore
from testing.local_redis import local_redis_store
from testing.redis_servers import free_port

ALICE, BOB = UserRef("telegram", "1"), UserRef("telegram", "2")


async def test_processes_on_one_server_share_the_limit(redis_prefix: str) -> None:
    async with local_redis_store(redis_prefix) as one, local_redis_store(redis_prefix) as two:
        first, second = (store.rate_limit("requests", 3, 60.0) for store in (one, two))
        answers = [await first.allow(ALICE), await second.allow(ALICE), await first.allow(ALICE)]
        assert answers == [True, True, True]
        assert not await second.allow(ALICE)
        assert not await first.allow(ALICE)
        assert await second.allow(BOB)  # per user
        assert await one.rate_limit("searches", 3, 60.0).allow(ALICE)  # per name


async def test_the_window_lets_requests_in_again(redis_prefix: str) -> None:
    async with local_redis_store(redis_prefix) as store:
        limit = store.rate_limit("requests", 1, 0.05)
        assert [await limit.allow(ALICE), await limit.allow(ALICE)] == [True, False]
        await asyncio.sleep(0.1)
        assert await limit.allow(ALICE)


async def test_an_unreachable_redis_does_not_silence_anyone() -> None:
    store = RedisProfileStore.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    try:
        assert await store.rate_limit("requests", 1, 60.0).allow(ALICE)
        assert await store.rate_limit("requests", 1, 60.0).allow(ALICE)
    finally:
        await store.close()
