"""The weekly push on APScheduler, in the running event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.scheduler import push_trigger, scheduled_forgetting, scheduled_push
from core.errors import StoreUnavailableError
from core.index import MovieIndex
from core.models import Delivery, PushHistory, Recommendation, Subscription, UserRef
from core.push import PushReport, PushSettings, WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore, MemoryPushLedger
from core.weeks import iso_week
from testing.data import random_movies
from testing.doubles import FixedEmbedder, RecordingNotifier
from testing.waiting import wait_until


class HeldNotifier(RecordingNotifier):
    """Holds every send until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def send_picks(
        self, user: UserRef, picks: Sequence[Recommendation], key: str
    ) -> Delivery:
        self.holding.set()
        await self.release.wait()
        return await super().send_picks(user, picks, key)


def recommender_on(store: MemoryProfileStore) -> Recommender:
    movies, vectors = random_movies(50, dim=8)
    index = MovieIndex.from_vectors(movies, vectors, "test:fixed")
    embedder = FixedEmbedder(index.manifest.embedder, index.dim)
    return Recommender(index, embedder, store, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-11-27 18:00:00", "2026-11-27 18:00:00"),
        ("2026-11-27 18:00:01", "2026-11-27 18:15:00"),
        ("2026-11-27 18:07:30", "2026-11-27 18:15:00"),
        ("2026-11-27 23:59:00", "2026-11-28 00:00:00"),
    ],
)
def test_the_check_runs_every_quarter_of_an_hour(after: str, expected: str) -> None:
    moment = datetime.fromisoformat(after).replace(tzinfo=UTC)
    fire = push_trigger().get_next_fire_time(None, moment)
    assert fire == datetime.fromisoformat(expected).replace(tzinfo=UTC)


async def test_a_check_runs_at_start_and_sends_what_is_due() -> None:
    store = MemoryProfileStore()
    now = datetime.now(UTC)
    due, later = UserRef("telegram", "due"), UserRef("telegram", "later")
    await store.set_subscription(due, Subscription(now.weekday(), now.hour))
    await store.set_subscription(later, Subscription((now.weekday() + 3) % 7, now.hour))
    notifier = RecordingNotifier()
    push = WeeklyPush(recommender_on(store), store, MemoryPushLedger(), [notifier], PushSettings())

    reports: list[PushReport] = []
    async with scheduled_push(push, asyncio.Event(), reports.append) as scheduler:
        await wait_until(lambda: reports)
        job = scheduler.get_job("weekly-push")
        assert job is not None and job.next_run_time > now

    assert set(notifier.users()) == {due}
    assert reports[0].sent == 1


class UnreachableStore(MemoryProfileStore):
    async def subscribers(self):  # type: ignore[no-untyped-def, override]
        raise StoreUnavailableError("Redis is down")
        yield


async def test_an_outage_is_logged_and_left_to_the_next_check(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = UnreachableStore()
    push = WeeklyPush(recommender_on(store), store, MemoryPushLedger(), [RecordingNotifier()])

    async with scheduled_push(push, asyncio.Event(), lambda report: None):
        await wait_until(lambda: "weekly push failed" in caplog.text)

    assert "Redis is down" in caplog.text


async def test_shutdown_waits_for_the_sends_in_flight() -> None:
    store = MemoryProfileStore()
    now = datetime.now(UTC)
    users = [UserRef("telegram", str(n)) for n in range(3)]
    for user in users:
        await store.set_subscription(user, Subscription(now.weekday(), now.hour))
    notifier, ledger, stop = HeldNotifier(), MemoryPushLedger(), asyncio.Event()
    push = WeeklyPush(recommender_on(store), store, ledger, [notifier], PushSettings())

    async with scheduled_push(push, stop, lambda report: None):
        await wait_until(notifier.holding.is_set)
        stop.set()
        asyncio.get_running_loop().call_later(0.2, notifier.release.set)

    sent = set(notifier.users())
    assert sent  # a send was in flight at the stop, and was let finish
    for user, history in zip(users, await ledger.history(users), strict=True):
        if user in sent:
            assert len(history.weeks) == 1  # settled
        else:  # never claimed: the next check sends it
            assert history == PushHistory()
            assert await ledger.claim(user, iso_week(now.date()), "next", 60.0)


async def test_users_inactive_for_the_months_are_forgotten_at_start() -> None:
    now = [1_000.0]
    store = MemoryProfileStore(clock=lambda: now[0])
    recommender = recommender_on(store)
    gone, active = UserRef("telegram", "gone"), UserRef("telegram", "active")
    await recommender.pick(gone, recommender.index.movies[0].movie_id)
    now[0] = time.time() - 29 * 86_400
    await recommender.pick(active, recommender.index.movies[0].movie_id)

    async with scheduled_forgetting(store, months=1):
        for _ in range(250):
            if await store.load(gone) is None:
                break
            await asyncio.sleep(0.02)

    assert await store.load(gone) is None
    assert await store.load(active) is not None
