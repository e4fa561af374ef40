"""The lists users were shown: kept by the memory store and by Redis alike (the
``store`` fixture runs each test once per implementation), dropped by ``forget``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from core.models import Exploration, ListKind, ReasonKind, ShownEntry, ShownList, UserRef
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from core.stores.redis.lists import decode_list, encode_list
from core.stores.shown_lists import KEPT_LISTS, KEPT_SECONDS, MemoryListStore
from testing.local_redis import LOCAL_REDIS
from tests.core.stores.conftest import ManualClock

ALICE = UserRef("telegram", "1")
BOB = UserRef("discord", "1")
RECOMMENDED = ShownList(
    ListKind.EXPLORED,
    (
        ShownEntry(562, 0.75, ReasonKind.CLOSE_TO_PICK, 2**52 + 7),
        ShownEntry(2**62, -0.5, ReasonKind.POPULAR),
        ShownEntry(3, 0.0, ReasonKind.CLOSE_TO_PICK, 9),
    ),
    exploration=Exploration("angle", 0.5),
)
SIMILAR = ShownList(ListKind.SIMILAR, (ShownEntry(8, 0.5), ShownEntry(9, 0.25)), about=562)


def lists_of(store: Any) -> Any:
    return store.shown_lists()


async def test_a_kept_list_comes_back_as_it_was(store: Any) -> None:
    lists = lists_of(store)
    await lists.save(ALICE, 1_000, RECOMMENDED)
    await lists.save(ALICE, 1_001, SIMILAR)

    assert await lists.load(ALICE, 1_000) == RECOMMENDED
    assert await lists.load(ALICE, 1_001) == SIMILAR
    assert await lists.load(ALICE, 999) is None
    assert await lists.load(BOB, 1_000) is None


async def test_only_the_newest_lists_are_kept(store: Any) -> None:
    lists = lists_of(store)
    for list_id in range(KEPT_LISTS + 2):
        await lists.save(ALICE, list_id, SIMILAR)

    kept = [list_id for list_id in range(KEPT_LISTS + 2) if await lists.load(ALICE, list_id)]

    assert kept == list(range(2, KEPT_LISTS + 2))


async def test_forget_drops_the_users_lists(store: Any) -> None:
    lists = lists_of(store)
    await lists.save(ALICE, 1, SIMILAR)
    await lists.save(BOB, 1, SIMILAR)

    await store.forget(ALICE)

    assert await lists.load(ALICE, 1) is None
    assert await lists.load(BOB, 1) == SIMILAR


async def test_memory_keeps_lists_until_some_time_after_the_newest(clock: ManualClock) -> None:
    lists = MemoryProfileStore(clock=clock).shown_lists()
    await lists.save(ALICE, 1, SIMILAR)
    clock.now += KEPT_SECONDS - 1
    await lists.save(ALICE, 2, SIMILAR)
    clock.now += KEPT_SECONDS - 1
    assert await lists.load(ALICE, 1) == SIMILAR

    clock.now += 2

    assert await lists.load(ALICE, 1) is None and await lists.load(ALICE, 2) is None


async def test_memory_holds_at_most_so_many_users() -> None:
    lists = MemoryListStore(users=2)
    for user_id in ("1", "2", "3"):
        await lists.save(UserRef("telegram", user_id), 1, SIMILAR)
    assert await lists.load(UserRef("telegram", "1"), 1) is None
    assert await lists.load(UserRef("telegram", "3"), 1) == SIMILAR


async def test_redis_keeps_a_users_lists_in_one_expiring_hash(
    redis_store: RedisProfileStore,
) -> None:
    lists = redis_store.shown_lists()
    await lists.save(ALICE, 42, RECOMMENDED)
    key = redis_store.keys.lists(ALICE)
    client = Redis.from_url(LOCAL_REDIS)
    try:
        assert 0 < await client.ttl(key) <= KEPT_SECONDS
        assert len(await client.hget(key, "42") or b"") < 200
        await client.hset(key, "43", b"not a list")
    finally:
        await client.aclose()
    assert await lists.load(ALICE, 43) is None


entries = st.builds(
    ShownEntry,
    movie_id=st.integers(0, 2**63 - 1),
    score=st.floats(-1.0, 1.0, width=32),
    reason=st.none() | st.sampled_from(ReasonKind),
    pick_id=st.none() | st.integers(0, 2**63 - 1),
)
shown_lists = st.builds(
    ShownList,
    kind=st.sampled_from(ListKind),
    entries=st.lists(entries, max_size=60).map(tuple),
    about=st.none() | st.integers(0, 2**63 - 1),
    exploration=st.none()
    | st.builds(
        Exploration,
        strategy=st.none() | st.text(max_size=20),
        strength=st.none() | st.floats(0.0, 1.0),
    ),
)


@given(shown_lists)
def test_any_list_is_stored_and_read_back_exactly(shown: ShownList) -> None:
    assert decode_list(encode_list(shown)) == shown


@pytest.mark.parametrize("data", [b"", b"{}\n", b'{"kind":"x"}\n', b"\xff\xfe", b"{}\nabc"])
def test_a_damaged_list_is_refused(data: bytes) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        decode_list(data)
