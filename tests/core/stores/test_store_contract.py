"""The ProfileStore contract: the same assertions against MemoryProfileStore and
RedisProfileStore (the ``store`` fixture runs each test once per implementation)."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from core.models import (
    Delivery,
    Notice,
    PushHistory,
    Subscription,
    TasteProfile,
    UndoAction,
    UndoStep,
    UserRef,
)
from core.ports import ProfileStore, StoredProfile
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from core.stores.retention import IDEMPOTENCY_TTL_SECONDS
from core.taste import replay_picks
from testing.profile_changes import (
    EMA_WEIGHT,
    FINGERPRINT,
    assert_same_profile,
    pick,
    undo_last,
    unit_vectors,
)
from tests.core.stores.conftest import ManualClock

ALICE = UserRef("telegram", "1")
BOB = UserRef("discord", "1")
MOVIES = unit_vectors(20)


async def picked(store: ProfileStore, user: UserRef) -> tuple[int, ...] | None:
    profile = await store.load(user)
    return None if profile is None else profile.picked


def full_profile() -> TasteProfile:
    """A profile with every field set, including undo steps with and without vectors."""
    return TasteProfile(
        fingerprint=FINGERPRINT,
        vector=MOVIES[0],
        picked=(3, 1, 4),
        disliked=(5, 9),
        last_pick_at=1_700_000_123.25,
        undo=(
            UndoStep(UndoAction.PICK, 3, None, None),
            UndoStep(UndoAction.PICK, 1, MOVIES[3], 1_700_000_000.5, was_disliked=True),
            UndoStep(UndoAction.DISLIKE, 9, MOVIES[2], 1_700_000_100.0),
        ),
    )


async def test_an_unknown_user_has_no_profile(store: ProfileStore) -> None:
    assert await store.load(ALICE) is None


async def test_every_field_of_a_profile_comes_back_exactly(store: ProfileStore) -> None:
    profile = full_profile()

    stored = await store.update(ALICE, lambda _: profile)

    assert stored.applied
    assert_same_profile(stored.profile, profile)
    assert_same_profile(await store.load(ALICE), profile)


async def test_change_receives_the_stored_profile(store: ProfileStore) -> None:
    await store.update(ALICE, lambda _: full_profile())
    received: list[TasteProfile | None] = []

    def change(current: TasteProfile | None) -> TasteProfile | None:
        received.append(current)
        return None

    await store.update(ALICE, change)

    assert_same_profile(received[-1], full_profile())


async def test_change_returning_none_writes_nothing(store: ProfileStore) -> None:
    assert await store.update(ALICE, lambda _: None) == StoredProfile(None, applied=False)
    assert await store.load(ALICE) is None

    await store.update(ALICE, pick(1, MOVIES[1]))
    unchanged = await store.update(ALICE, pick(1, MOVIES[1]))

    assert not unchanged.applied
    assert unchanged.profile is not None and unchanged.profile.picked == (1,)


async def test_a_raising_change_stores_nothing(store: ProfileStore) -> None:
    await store.update(ALICE, pick(1, MOVIES[1]))

    def failing(current: TasteProfile | None) -> TasteProfile | None:
        raise LookupError("nothing to undo")

    with pytest.raises(LookupError, match="nothing to undo"):
        await store.update(BOB, failing, "key-1")
    with pytest.raises(LookupError):
        await store.update(ALICE, lambda current: failing(pick(2, MOVIES[2])(current)))

    assert await store.load(BOB) is None
    assert await picked(store, ALICE) == (1,)
    assert await store.pick_counts([1, 2]) == (1, 0)
    assert (await store.update(BOB, pick(1, MOVIES[1]), "key-1")).applied


async def test_a_replayed_idempotency_key_changes_nothing(store: ProfileStore) -> None:
    first = await store.update(ALICE, pick(1, MOVIES[1]), "callback-7")
    calls: list[TasteProfile | None] = []

    def second_pick(current: TasteProfile | None) -> TasteProfile | None:
        calls.append(current)
        return pick(2, MOVIES[2])(current)

    replayed = await store.update(ALICE, second_pick, "callback-7")

    assert first.applied and not replayed.applied
    assert calls == []
    assert first.profile is not None
    assert_same_profile(replayed.profile, first.profile)
    assert await picked(store, ALICE) == (1,)
    assert await store.pick_counts([1, 2]) == (1, 0)


async def test_an_idempotency_key_older_than_its_lifetime_no_longer_counts(
    clocked_store: ProfileStore, clock: ManualClock
) -> None:
    assert (await clocked_store.update(ALICE, pick(1, MOVIES[1]), "old-tap")).applied
    clock.now += IDEMPOTENCY_TTL_SECONDS - 1
    assert not (await clocked_store.update(ALICE, pick(2, MOVIES[2]), "old-tap")).applied
    clock.now += 2

    assert (await clocked_store.update(ALICE, pick(3, MOVIES[3]), "old-tap")).applied
    assert await picked(clocked_store, ALICE) == (1, 3)


async def test_idempotency_keys_belong_to_one_user(store: ProfileStore) -> None:
    assert (await store.update(ALICE, pick(1, MOVIES[1]), "same-id")).applied
    assert (await store.update(BOB, pick(1, MOVIES[1]), "same-id")).applied
    assert await store.pick_counts([1]) == (2,)


async def test_a_key_whose_change_did_nothing_is_not_remembered(store: ProfileStore) -> None:
    await store.update(ALICE, lambda _: None, "tap")

    assert (await store.update(ALICE, pick(1, MOVIES[1]), "tap")).applied


async def test_pick_counts_follow_the_picks_in_input_order(store: ProfileStore) -> None:
    await store.update(ALICE, pick(1, MOVIES[1]))
    await store.update(ALICE, pick(2, MOVIES[2]))
    await store.update(BOB, pick(2, MOVIES[2]))

    assert await store.pick_counts([3, 2, 1, 2]) == (0, 2, 1, 2)
    assert await store.pick_counts([]) == ()

    await store.update(ALICE, undo_last)

    assert await store.pick_counts([1, 2]) == (1, 1)


async def test_undo_restores_the_previous_profile_exactly(store: ProfileStore) -> None:
    before = (await store.update(ALICE, pick(1, MOVIES[1]))).profile
    await store.update(ALICE, pick(2, MOVIES[2]))

    undone = await store.update(ALICE, undo_last)

    assert before is not None
    assert_same_profile(undone.profile, before)
    assert_same_profile(await store.load(ALICE), before)


async def test_forget_deletes_the_profile_keys_and_counts(store: ProfileStore) -> None:
    await store.update(ALICE, pick(1, MOVIES[1]), "k1")
    await store.update(BOB, pick(1, MOVIES[1]), "k1")

    await store.forget(ALICE)

    assert await store.load(ALICE) is None
    assert await store.pick_counts([1]) == (1,)
    assert (await store.update(ALICE, pick(1, MOVIES[1]), "k1")).applied
    assert await picked(store, BOB) == (1,)


async def test_forget_deletes_the_push_history(
    store: MemoryProfileStore | RedisProfileStore,
) -> None:
    ledger = store.push_ledger()
    await store.set_subscription(ALICE, Subscription(4, 18))
    claim = await ledger.claim(ALICE, "2026-W48", "a", 60.0)
    assert claim
    await ledger.settle(ALICE, "2026-W48", claim, Delivery.SENT, [1])
    pushed = PushHistory(frozenset({"2026-W48"}), frozenset({1}))
    assert await store.push_ledger().history([ALICE]) == [pushed]  # the store's one ledger

    await store.forget(ALICE)

    assert await ledger.history([ALICE]) == [PushHistory()]


async def test_a_settle_after_forget_writes_no_history(
    store: MemoryProfileStore | RedisProfileStore,
) -> None:
    ledger = store.push_ledger()
    claim = await ledger.claim(ALICE, "2026-W48", "a", 60.0)
    assert claim

    await store.forget(ALICE)
    await ledger.settle(ALICE, "2026-W48", claim, Delivery.SENT, [1])

    assert await ledger.history([ALICE]) == [PushHistory()]
    assert await ledger.claim(ALICE, "2026-W48", "b", 60.0)


async def test_forget_is_safe_to_repeat(store: ProfileStore) -> None:
    await store.update(ALICE, pick(1, MOVIES[1]))

    await store.forget(ALICE)
    await store.forget(ALICE)
    await store.forget(BOB)

    assert await store.load(ALICE) is None
    assert await store.pick_counts([1]) == (0,)


@pytest.mark.parametrize("user_id", ["a}b{c", "a:b", "100%", "{telegram:1}", "ünï cödé", "x" * 300])
async def test_odd_user_ids_are_users_of_their_own(store: ProfileStore, user_id: str) -> None:
    odd = UserRef("telegram", user_id)
    await store.update(ALICE, pick(1, MOVIES[1]))

    await store.update(odd, pick(2, MOVIES[2]))

    assert await picked(store, odd) == (2,)
    assert await picked(store, ALICE) == (1,)
    await store.forget(odd)
    assert await picked(store, ALICE) == (1,)


async def test_the_same_id_on_two_platforms_is_two_users(store: ProfileStore) -> None:
    await store.update(ALICE, pick(1, MOVIES[1]))

    assert await store.load(BOB) is None


async def test_racing_picks_of_many_users_are_all_kept_exactly_once(
    store: ProfileStore,
) -> None:
    """200 users x 50 picks, shuffled over 64 tasks, 10% delivered twice: every user's
    vector equals the sequential replay of their picks and the counts are exact."""
    users, picks_per_user = 200, 50
    movies = unit_vectors(400, dim=32, seed=1)
    rng = random.Random(7)
    plan = {
        UserRef("telegram", str(u)): rng.sample(range(len(movies)), picks_per_user)
        for u in range(users)
    }
    deliveries = [(user, movie_id) for user, ids in plan.items() for movie_id in ids]
    deliveries += rng.sample(deliveries, len(deliveries) // 10)
    rng.shuffle(deliveries)
    queue: asyncio.Queue[tuple[UserRef, int]] = asyncio.Queue()
    for delivery in deliveries:
        queue.put_nowait(delivery)
    applied = 0

    async def worker() -> None:
        nonlocal applied
        while not queue.empty():
            user, movie_id = queue.get_nowait()
            key = f"{user.user_id}-{movie_id}"
            stored = await store.update(user, pick(movie_id, movies[movie_id]), key)
            applied += stored.applied

    await asyncio.gather(*(worker() for _ in range(64)))

    assert applied == users * picks_per_user
    for user, ids in plan.items():
        profile = await store.load(user)
        assert profile is not None and sorted(profile.picked) == sorted(ids)
        expected = replay_picks([movies[i] for i in profile.picked], EMA_WEIGHT)
        assert profile.vector is not None
        np.testing.assert_allclose(profile.vector, expected, atol=1e-5)
    expected_counts = np.bincount([i for ids in plan.values() for i in ids], minlength=400)
    assert await store.pick_counts(range(400)) == tuple(expected_counts)


async def test_subscriptions_are_set_changed_and_removed(store: ProfileStore) -> None:
    assert await store.subscription(ALICE) is None
    await store.set_subscription(ALICE, Subscription(4, 18, "Europe/Berlin"))
    await store.set_subscription(BOB, Subscription(0, 9))
    assert await store.subscription(ALICE) == Subscription(4, 18, "Europe/Berlin")
    await store.set_subscription(ALICE, Subscription(6, 7, "Asia/Tokyo"))
    assert await store.subscription(ALICE) == Subscription(6, 7, "Asia/Tokyo")
    await store.set_subscription(ALICE, None)
    await store.set_subscription(ALICE, None)
    assert await store.subscription(ALICE) is None
    assert await store.subscription(BOB) == Subscription(0, 9, "UTC")


async def test_forget_ends_the_subscription(store: ProfileStore) -> None:
    await store.set_subscription(ALICE, Subscription(2, 20))
    await store.forget(ALICE)
    assert await store.subscription(ALICE) is None


async def test_a_notice_is_taken_once_and_forget_drops_it(store: ProfileStore) -> None:
    assert await store.take_notices(ALICE) == set()
    await store.add_notice(ALICE, Notice.PICKS_STOPPED)
    await store.add_notice(ALICE, Notice.PICKS_STOPPED)
    assert await store.take_notices(BOB) == set()
    assert await store.take_notices(ALICE) == {Notice.PICKS_STOPPED}
    assert await store.take_notices(ALICE) == set()
    await store.add_notice(ALICE, Notice.PICKS_STOPPED)
    await store.forget(ALICE)
    assert await store.take_notices(ALICE) == set()


async def test_load_many_answers_in_input_order(store: ProfileStore) -> None:
    await store.update(ALICE, pick(1, MOVIES[1]))
    await store.update(BOB, pick(2, MOVIES[2]))
    nobody = UserRef("telegram", "404")

    profiles = await store.load_many([BOB, nobody, ALICE])

    assert [None if p is None else p.picked for p in profiles] == [(2,), None, (1,)]
    assert_same_profile(profiles[2], await store.load(ALICE))


async def test_subscribers_lists_every_subscribed_user_once(store: ProfileStore) -> None:
    users = [UserRef("telegram", str(n)) for n in range(2_500)]
    for n, user in enumerate(users):
        await store.set_subscription(user, Subscription(n % 7, n % 24))
    await store.set_subscription(users[0], None)
    await store.forget(users[1])

    listed = {user: slot async for user, slot in store.subscribers()}

    assert set(listed) == set(users[2:])
    assert listed[users[30]] == Subscription(2, 6)


async def test_a_language_is_stored_changed_dropped_and_forgotten(store: ProfileStore) -> None:
    assert await store.language(ALICE) is None
    await store.set_language(ALICE, "ru")
    await store.set_language(BOB, "en")
    assert await store.language(ALICE) == "ru"
    await store.set_language(ALICE, "en")
    assert await store.language(ALICE) == "en"
    await store.set_language(ALICE, None)
    await store.set_language(ALICE, None)
    assert await store.language(ALICE) is None
    await store.set_language(ALICE, "ru")
    await store.forget(ALICE)
    assert await store.language(ALICE) is None
    assert await store.language(BOB) == "en"


async def test_users_inactive_since_the_cutoff_are_forgotten(
    clocked_store: ProfileStore, clock: ManualClock
) -> None:
    await clocked_store.update(ALICE, pick(1, MOVIES[1]))
    await clocked_store.set_subscription(ALICE, Subscription(4, 18))
    clock.now += 1_000
    cutoff = clock.now
    await clocked_store.update(BOB, pick(1, MOVIES[1]))
    await clocked_store.update(BOB, pick(2, MOVIES[2]))

    assert await clocked_store.forget_inactive(cutoff - 1_000) == 0
    assert await clocked_store.forget_inactive(cutoff) == 1

    assert await clocked_store.load(ALICE) is None
    assert await clocked_store.subscription(ALICE) is None
    assert await picked(clocked_store, BOB) == (1, 2)
    assert await clocked_store.pick_counts([1, 2]) == (1, 1)  # Alice's share is gone
    clock.now += 1_000
    await clocked_store.update(BOB, pick(3, MOVIES[3]))  # activity moves the time on
    assert await clocked_store.forget_inactive(clock.now - 500) == 0
