"""The co-pick counts of the ProfileStore contract, against memory, Redis and the local
Redis Cluster: what a pick counts, and that replays, undos and forgets move them exactly."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.community import CoPickCounts, CoPickSettings, co_pick_changes
from core.models import UserRef
from core.ports import ProfileStore
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.profile_changes import pick, undo_last, unit_vectors

SMALL = CoPickSettings(window=3, neighbours=3)  # trims a movie's pairs past 4
MOVIES = unit_vectors(30)
USERS = [UserRef("telegram", str(n)) for n in range(6)]
ALICE, BOB = USERS[0], USERS[1]


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[ProfileStore]:
    """Each store in turn, counting pairs within 3 picks and keeping 3 neighbours."""
    if request.param == "memory":
        yield MemoryProfileStore(community=SMALL)
        return
    if request.param == "redis":
        redis_store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix, community=SMALL)
    else:
        url = request.getfixturevalue("redis_cluster").url
        redis_store = RedisProfileStore.from_url(url, prefix=prefix, cluster=True, community=SMALL)
    yield redis_store
    await redis_store.close()
    await delete_prefix(prefix)


async def picks(store: ProfileStore, user: UserRef, *movie_ids: int) -> None:
    for movie_id in movie_ids:
        await store.update(user, pick(movie_id, MOVIES[movie_id]))


async def all_counts(store: ProfileStore) -> dict[int, dict[int, int]]:
    found = await store.co_picks(range(len(MOVIES)))
    return {movie: counts for movie, counts in enumerate(found) if counts}


async def test_a_pick_pairs_with_the_picks_just_before_it_both_ways(store: ProfileStore) -> None:
    await picks(store, ALICE, 1, 2, 3, 4, 5)

    assert await store.co_picks([5, 1, 9]) == [{2: 1, 3: 1, 4: 1}, {2: 1, 3: 1, 4: 1}, {}]


async def test_counts_add_up_over_users(store: ProfileStore) -> None:
    await picks(store, ALICE, 1, 2)
    await picks(store, BOB, 2, 1)

    assert await store.co_picks([1, 2]) == [{2: 2}, {1: 2}]


async def test_a_replayed_pick_counts_nothing_twice(store: ProfileStore) -> None:
    await picks(store, ALICE, 1)
    first = await store.update(ALICE, pick(2, MOVIES[2]), "key-2")
    replayed = await store.update(ALICE, pick(2, MOVIES[2]), "key-2")

    assert first.applied and not replayed.applied
    assert await all_counts(store) == {1: {2: 1}, 2: {1: 1}}


async def test_undo_takes_back_exactly_what_its_pick_added(store: ProfileStore) -> None:
    await picks(store, BOB, 1, 2, 3)
    await picks(store, ALICE, 2, 3)
    before = await all_counts(store)
    await picks(store, ALICE, 1)

    await store.update(ALICE, undo_last)

    assert await all_counts(store) == before


async def test_forget_leaves_the_counts_as_if_the_user_never_picked(store: ProfileStore) -> None:
    await picks(store, BOB, 1, 2, 3, 4)
    before = await all_counts(store)
    await picks(store, ALICE, 4, 3, 5, 1)

    await store.forget(ALICE)

    assert await all_counts(store) == before


async def test_trimming_keeps_the_strongest_neighbours(store: ProfileStore) -> None:
    pairs = [(1, 2), (1, 2), (1, 6), (1, 3), (1, 5), (1, 4)]
    for user, (first, second) in zip(USERS, pairs, strict=True):
        await picks(store, user, first, second)

    # Movie 1 reached 5 neighbours (more than 4): it keeps the 3 strongest, the smaller
    # ids first among equal counts.
    assert await store.co_picks([1]) == [{2: 2, 3: 1, 4: 1}]


async def test_seeded_histories_count_once_and_outlive_forgets(store: ProfileStore) -> None:
    await picks(store, ALICE, 7, 8)

    assert await store.seed_community("ratings-v1", [[1, 2], [2, 1, 3]])
    seeded = await all_counts(store)
    assert not await store.seed_community("ratings-v1", [[1, 2], [2, 1, 3]])
    await store.forget(ALICE)

    assert seeded == {1: {2: 2, 3: 1}, 2: {1: 2, 3: 1}, 3: {1: 1, 2: 1}, 7: {8: 1}, 8: {7: 1}}
    assert await all_counts(store) == {1: {2: 2, 3: 1}, 2: {1: 2, 3: 1}, 3: {1: 1, 2: 1}}
    assert await store.pick_counts([1, 2, 3, 7]) == (2, 2, 1, 0)


async def test_random_picks_and_undos_then_forgetting_everyone_leaves_nothing(
    store: ProfileStore,
) -> None:
    rng = random.Random(7)
    for _ in range(60):
        user = rng.choice(USERS)
        if rng.random() < 0.2:
            stored = await store.load(user)
            if stored is not None and stored.undo:
                await store.update(user, undo_last)
        else:
            movie = rng.randrange(len(MOVIES))
            await store.update(user, pick(movie, MOVIES[movie]))

    assert await all_counts(store) != {}
    for user in USERS:
        await store.forget(user)

    assert await all_counts(store) == {}
    assert set(await store.pick_counts(range(len(MOVIES)))) == {0}


# --- the pure counting, on any sequence -------------------------------------------------

histories = st.lists(st.lists(st.integers(0, 12), unique=True, max_size=8), min_size=1, max_size=5)


@given(histories=histories, window=st.integers(1, 4), cut=st.data())
@settings(max_examples=200, deadline=None)
def test_counting_any_histories_then_taking_each_back_leaves_nothing(
    histories: list[list[int]], window: int, cut: st.DataObject
) -> None:
    counts = CoPickCounts(CoPickSettings(window=window, neighbours=1000))
    grown = [cut.draw(st.integers(0, len(history))) for history in histories]
    for history, length in zip(histories, grown, strict=True):
        counts.apply(co_pick_changes((), history[:length], window))
        counts.apply(co_pick_changes(history[:length], history, window))

    for history in histories:
        counts.apply(co_pick_changes(history, (), window))

    assert not counts
