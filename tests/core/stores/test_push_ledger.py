"""The PushLedger contract, against MemoryPushLedger and RedisPushLedger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.models import Delivery, PushHistory, UserRef
from core.ports import PushLedger
from core.stores.memory import MemoryPushLedger
from core.stores.redis import RedisProfileStore
from testing.local_redis import local_redis_store

ALICE = UserRef("telegram", "1")
BOB = UserRef("discord", "1")


@pytest.fixture(params=["memory", "redis", "cluster"])
async def ledger(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[PushLedger]:
    if request.param == "memory":
        yield MemoryPushLedger(remembered_weeks=4)
    elif request.param == "redis":
        async with local_redis_store(prefix) as store:
            yield store.push_ledger(remembered_weeks=4)
    else:
        cluster = request.getfixturevalue("redis_cluster")
        store = RedisProfileStore.from_url(cluster.url, prefix=prefix, cluster=True)
        yield store.push_ledger(remembered_weeks=4)
        await store.close()


HOUR = 3600.0
W48 = "2026-W48"


async def test_a_week_is_claimed_once(ledger: PushLedger) -> None:
    assert await ledger.claim(ALICE, W48, "a", HOUR)
    assert not await ledger.claim(ALICE, W48, "b", HOUR)
    assert not await ledger.claim(ALICE, W48, "a", HOUR)
    assert await ledger.claim(BOB, W48, "a", HOUR)
    assert await ledger.claim(ALICE, "2026-W49", "a", HOUR)


async def test_racing_claims_let_exactly_one_through(ledger: PushLedger) -> None:
    claims = await asyncio.gather(*(ledger.claim(ALICE, W48, f"h{n}", HOUR) for n in range(50)))
    assert sum(claim is not None for claim in claims) == 1


async def test_a_claim_names_its_holder(ledger: PushLedger) -> None:
    token = await ledger.claim(ALICE, W48, "push-7f3a", HOUR)
    assert token is not None and token.startswith("@push-7f3a@")


async def test_a_sent_push_is_remembered_and_a_failed_one_given_back(ledger: PushLedger) -> None:
    alice_claim, bob_claim = [await ledger.claim(user, W48, "a", HOUR) for user in (ALICE, BOB)]
    assert alice_claim and bob_claim
    await ledger.settle(ALICE, W48, alice_claim, Delivery.SENT, [7, 8, 9])
    await ledger.settle(BOB, W48, bob_claim, Delivery.FAILED, [1, 2])

    alice, bob = await ledger.history([ALICE, BOB])

    assert alice == PushHistory(frozenset({W48}), frozenset({7, 8, 9}))
    assert bob == PushHistory()
    assert await ledger.claim(BOB, W48, "b", HOUR)
    assert not await ledger.claim(ALICE, W48, "b", 0.0)


async def test_a_gone_user_keeps_the_claim(ledger: PushLedger) -> None:
    claim = await ledger.claim(ALICE, W48, "a", HOUR)
    assert claim
    await ledger.settle(ALICE, W48, claim, Delivery.GONE, [1])

    assert not await ledger.claim(ALICE, W48, "b", 0.0)
    assert (await ledger.history([ALICE]))[0] == PushHistory(frozenset({W48}))


async def test_a_claim_on_its_way_is_not_history(ledger: PushLedger) -> None:
    await ledger.claim(ALICE, W48, "a", HOUR)

    assert await ledger.history([ALICE]) == [PushHistory()]


async def test_an_unsettled_claim_is_taken_over_once_stale(ledger: PushLedger) -> None:
    first = await ledger.claim(ALICE, W48, "gone", HOUR)
    assert not await ledger.claim(ALICE, W48, "next", 30.0)
    await asyncio.sleep(0.05)

    second = await ledger.claim(ALICE, W48, "next", 0.01)
    assert first and second and second.startswith("@next@")
    await ledger.settle(ALICE, W48, first, Delivery.FAILED, [])  # late: the claim is not its
    assert not await ledger.claim(ALICE, W48, "third", 30.0)

    await ledger.settle(ALICE, W48, second, Delivery.SENT, [5])
    assert await ledger.history([ALICE]) == [PushHistory(frozenset({W48}), frozenset({5}))]


async def test_a_late_settle_of_a_taken_over_claim_changes_nothing(ledger: PushLedger) -> None:
    first = await ledger.claim(ALICE, W48, "gone", HOUR)
    await asyncio.sleep(0.05)
    second = await ledger.claim(ALICE, W48, "next", 0.01)
    assert first and second

    await ledger.settle(ALICE, W48, first, Delivery.SENT, [1])

    assert await ledger.history([ALICE]) == [PushHistory()]
    assert not await ledger.claim(ALICE, W48, "third", 30.0)


async def test_only_the_remembered_weeks_are_kept(ledger: PushLedger) -> None:
    for number, week in enumerate(["2026-W44", "2026-W45", "2026-W47", W48]):
        claim = await ledger.claim(ALICE, week, "a", HOUR)
        assert claim
        await ledger.settle(ALICE, week, claim, Delivery.SENT, [number])

    (history,) = await ledger.history([ALICE])

    assert history.weeks == {"2026-W45", "2026-W47", W48}
    assert history.movie_ids == {1, 2, 3}


async def test_one_holder_leads_at_a_time(ledger: PushLedger) -> None:
    assert await ledger.acquire_lease("a", 30)
    assert await ledger.acquire_lease("a", 30)  # renewed
    assert not await ledger.acquire_lease("b", 30)
    await ledger.release_lease("b")  # not the holder: nothing happens
    assert not await ledger.acquire_lease("b", 30)
    await ledger.release_lease("a")
    assert await ledger.acquire_lease("b", 30)


async def test_an_expired_lease_passes_to_another_holder(ledger: PushLedger) -> None:
    assert await ledger.acquire_lease("a", 0.05)
    await asyncio.sleep(0.1)
    assert await ledger.acquire_lease("b", 30)
    assert not await ledger.acquire_lease("a", 30)
