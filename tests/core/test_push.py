"""The weekly push, with a recording notifier: once per user and week, whatever happens."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from core.errors import StoreUnavailableError
from core.index import MovieIndex
from core.models import Delivery, Notice, Recommendation, Subscription, UserRef
from core.ports import ProfileStore, PushLedger
from core.push import PushSettings, RateLimit, WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore, MemoryPushLedger
from core.subscriptions import Subscriptions
from testing.data import random_movies
from testing.doubles import FixedEmbedder, RecordingNotifier
from testing.local_redis import local_redis_store

FRIDAY_18 = datetime(2026, 11, 27, 18, 5, tzinfo=UTC)  # ISO week 2026-W48
SLOT = Subscription(weekday=4, hour=18)
FAST = PushSettings(per_second={"telegram": 1e6, "discord": 1e6}, batch_size=250)
USERS = 1_000


@pytest.fixture(scope="module")
def index() -> MovieIndex:
    movies, vectors = random_movies(400, dim=16, seed=3)
    return MovieIndex.from_vectors(movies, vectors, "test:fixed")


@dataclass
class Backend:
    store: ProfileStore
    ledger: PushLedger


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        yield Backend(MemoryProfileStore(), MemoryPushLedger())
        return
    async with local_redis_store(f"moviebot-test-{uuid.uuid4().hex[:12]}") as store:
        yield Backend(store, store.push_ledger())


def recommender_on(index: MovieIndex, store: ProfileStore) -> Recommender:
    embedder = FixedEmbedder(index.manifest.embedder, index.dim)
    return Recommender(index, embedder, store, rng=np.random.default_rng(0))


async def subscribe(
    recommender: Recommender, store: ProfileStore, count: int, platform: str = "telegram"
) -> list[UserRef]:
    """``count`` users subscribed at Friday 18:00 UTC; every other one with three picks."""
    users = [UserRef(platform, str(n)) for n in range(count)]
    movie_ids = itertools.cycle(movie.movie_id for movie in recommender.index.movies)
    subscriptions = Subscriptions(store)
    for n, user in enumerate(users):
        await subscriptions.subscribe(user, SLOT.weekday, SLOT.hour)
        for _ in range(3 if n % 2 == 0 else 0):
            await recommender.pick(user, next(movie_ids))
    return users


def pusher(
    recommender: Recommender, backend: Backend, notifier: RecordingNotifier, **settings: Any
) -> WeeklyPush:
    return WeeklyPush(
        recommender, backend.store, backend.ledger, [notifier], replace(FAST, **settings)
    )


async def test_every_due_subscriber_gets_one_push(index: MovieIndex, backend: Backend) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, USERS)
    notifier = RecordingNotifier()

    report = await pusher(recommender, backend, notifier).run(FRIDAY_18)
    again = await pusher(recommender, backend, notifier).run(FRIDAY_18 + timedelta(hours=1))

    assert (report.planned, report.sent, report.failed, report.gone) == (USERS, USERS, 0, 0)
    assert again.planned == 0 and again.sent == 0
    assert notifier.users() == Counter(users)
    assert all(len(movie_ids) == FAST.picks for _, movie_ids in notifier.sent)


async def test_a_stopped_push_resumes_where_it_stopped(index: MovieIndex, backend: Backend) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, USERS)
    notifier = RecordingNotifier(stop_after=300)

    first = await pusher(recommender, backend, notifier).run(FRIDAY_18, stop=notifier.stop)
    sent_first = len(notifier.sent)
    second = await pusher(recommender, backend, notifier).run(FRIDAY_18 + timedelta(minutes=15))

    assert 300 <= first.sent == sent_first < USERS
    assert second.sent == USERS - sent_first
    assert notifier.users() == Counter(users)


async def test_two_pushers_started_together_send_each_week_once(
    index: MovieIndex, backend: Backend
) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, USERS)
    notifier = RecordingNotifier()

    reports = await asyncio.gather(
        *(pusher(recommender, backend, notifier).run(FRIDAY_18) for _ in range(2))
    )

    assert sorted(report.leader for report in reports) == [False, True]
    assert notifier.users() == Counter(users)


class EveryoneLeads:
    """A ledger whose lease never refuses: two pushers at once, as in a split brain."""

    def __init__(self, ledger: PushLedger) -> None:
        self._ledger = ledger

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


async def test_even_a_split_brain_sends_each_week_once(index: MovieIndex, backend: Backend) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, USERS)
    notifier = RecordingNotifier()
    split = Backend(backend.store, EveryoneLeads(backend.ledger))  # type: ignore[arg-type]

    reports = await asyncio.gather(
        *(pusher(recommender, split, notifier, concurrency=5).run(FRIDAY_18) for _ in range(3))
    )

    assert all(report.leader for report in reports)
    assert sum(report.sent for report in reports) == USERS
    assert notifier.users() == Counter(users)


async def test_users_who_blocked_the_bot_are_unsubscribed(
    index: MovieIndex, backend: Backend
) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, 200)
    notifier = RecordingNotifier(gone=set(users[::7]))

    report = await pusher(recommender, backend, notifier).run(FRIDAY_18)

    assert report.gone == len(users[::7]) and report.sent == 200 - report.gone
    still = {user async for user, _ in backend.store.subscribers()}
    assert still == set(users) - set(users[::7])
    assert await backend.store.take_notices(users[0]) == {Notice.PICKS_STOPPED}
    assert await backend.store.take_notices(users[1]) == set()


async def test_failed_sends_are_tried_again_by_the_next_run(
    index: MovieIndex, backend: Backend
) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, 100)
    notifier = RecordingNotifier(failing=set(users[:10]))

    first = await pusher(recommender, backend, notifier).run(FRIDAY_18)
    notifier.failing.clear()
    second = await pusher(recommender, backend, notifier).run(FRIDAY_18 + timedelta(minutes=15))

    assert (first.sent, first.failed) == (90, 10)
    assert (second.planned, second.sent) == (10, 10)
    assert notifier.users() == Counter(users)


async def test_the_claims_of_a_killed_pusher_are_taken_over_once_a_lease_old(
    index: MovieIndex, backend: Backend
) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, 100)
    for user in users[:20]:  # claimed by a process killed before it sent or settled
        assert await backend.ledger.claim(user, "2026-W48", "push-killed", 60.0)
    notifier = RecordingNotifier()

    early = await pusher(recommender, backend, notifier, lease_seconds=60.0).run(FRIDAY_18)
    await asyncio.sleep(0.1)
    later = await pusher(recommender, backend, notifier, lease_seconds=0.05).run(FRIDAY_18)

    assert (early.sent, early.skipped) == (80, 20)
    assert (later.planned, later.sent, later.skipped) == (20, 20, 0)
    assert notifier.users() == Counter(users)


class FailingClaims:
    """A ledger whose claims fail for one user, after the others' sends have started."""

    def __init__(self, ledger: PushLedger, failing: UserRef) -> None:
        self._ledger = ledger
        self._failing = failing

    async def claim(self, user: UserRef, week: str, holder: str, stale_after: float) -> str | None:
        if user == self._failing:
            await asyncio.sleep(0.01)
            raise StoreUnavailableError("Redis is down")
        return await self._ledger.claim(user, week, holder, stale_after)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


class SlowNotifier(RecordingNotifier):
    async def send_picks(
        self, user: UserRef, picks: Sequence[Recommendation], key: str
    ) -> Delivery:
        await asyncio.sleep(0.1)
        return await super().send_picks(user, picks, key)


async def test_an_outage_mid_push_lets_the_sends_in_flight_settle(
    index: MovieIndex, backend: Backend
) -> None:
    recommender = recommender_on(index, backend.store)
    users = await subscribe(recommender, backend.store, 40)
    notifier = SlowNotifier()
    failing = Backend(backend.store, FailingClaims(backend.ledger, users[5]))  # type: ignore[arg-type]

    with pytest.raises(StoreUnavailableError):
        await pusher(recommender, failing, notifier, concurrency=10).run(FRIDAY_18)

    sent = set(notifier.users())
    assert len(sent) >= 5  # the sends started before the outage were not cut
    histories = await backend.ledger.history(users)
    assert {user for user, history in zip(users, histories, strict=True) if history.weeks} == sent
    again = await pusher(recommender, backend, RecordingNotifier()).run(FRIDAY_18)
    assert again.sent == len(users) - len(sent)


async def test_only_users_whose_slot_has_come_are_pushed(index: MovieIndex) -> None:
    store, ledger = MemoryProfileStore(), MemoryPushLedger()
    recommender = recommender_on(index, store)
    slots = {
        "berlin-friday-19": Subscription(4, 19, "Europe/Berlin"),  # 18:00 UTC: due
        "utc-friday-18": Subscription(4, 18),  # due
        "utc-friday-08": Subscription(4, 8),  # 10 h ago: still within the catch-up
        "utc-thursday-18": Subscription(3, 18),  # a day ago: too late
        "utc-friday-19": Subscription(4, 19),  # in an hour
        "tokyo-saturday-03": Subscription(5, 3, "Asia/Tokyo"),  # Friday 18:00 UTC: due
    }
    for name, slot in slots.items():
        await store.set_subscription(UserRef("telegram", name), slot)
    notifier = RecordingNotifier()

    await WeeklyPush(recommender, store, ledger, [notifier], FAST).run(FRIDAY_18)

    pushed = {user.user_id for user in notifier.users()}
    assert pushed == {"berlin-friday-19", "utc-friday-18", "utc-friday-08", "tokyo-saturday-03"}


async def test_picks_leave_out_picks_dislikes_and_last_weeks_pushes(index: MovieIndex) -> None:
    store, ledger = MemoryProfileStore(), MemoryPushLedger()
    recommender = recommender_on(index, store)
    alice = UserRef("telegram", "alice")
    await Subscriptions(store).subscribe(alice, SLOT.weekday, SLOT.hour)
    movies = [movie.movie_id for movie in index.movies]
    for movie_id in movies[:5]:
        await recommender.pick(alice, movie_id)
    await recommender.dislike(alice, movies[10])
    notifier = RecordingNotifier()

    for week in range(3):
        now = FRIDAY_18 + timedelta(weeks=week)
        await WeeklyPush(recommender, store, ledger, [notifier], FAST).run(now)

    pushed = [movie_ids for _, movie_ids in notifier.sent]
    assert len(pushed) == 3
    every = [movie_id for movie_ids in pushed for movie_id in movie_ids]
    assert len(every) == len(set(every)) == 9
    assert not set(every) & {*movies[:5], movies[10]}


async def test_a_user_without_picks_gets_popular_starters(index: MovieIndex) -> None:
    store, ledger = MemoryProfileStore(), MemoryPushLedger()
    recommender = recommender_on(index, store)
    await Subscriptions(store).subscribe(UserRef("telegram", "new"), SLOT.weekday, SLOT.hour)
    notifier = RecordingNotifier()

    await WeeklyPush(recommender, store, ledger, [notifier], FAST).run(FRIDAY_18)

    ((_, movie_ids),) = notifier.sent
    starters = recommender.starters.recommendations(FAST.picks)
    assert list(movie_ids) == [starter.movie.movie_id for starter in starters]


async def test_one_faiss_search_per_batch(
    index: MovieIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, ledger = MemoryProfileStore(), MemoryPushLedger()
    recommender = recommender_on(index, store)
    await subscribe(recommender, store, USERS)
    searches: list[int] = []
    search = index.nearest_positions

    def counted(queries: Any, k: int) -> Any:
        searches.append(len(queries))
        return search(queries, k)

    monkeypatch.setattr(index, "nearest_positions", counted)

    await WeeklyPush(recommender, store, ledger, [RecordingNotifier()], FAST).run(FRIDAY_18)

    assert searches == [FAST.batch_size // 2] * (USERS // FAST.batch_size)  # half have a taste


async def test_users_of_a_platform_without_a_notifier_wait(index: MovieIndex) -> None:
    store, ledger = MemoryProfileStore(), MemoryPushLedger()
    recommender = recommender_on(index, store)
    await subscribe(recommender, store, 10, platform="discord")
    await subscribe(recommender, store, 10, platform="telegram")
    telegram = RecordingNotifier()

    await WeeklyPush(recommender, store, ledger, [telegram], FAST).run(FRIDAY_18)
    discord = RecordingNotifier(platform="discord")
    await WeeklyPush(recommender, store, ledger, [discord], FAST).run(FRIDAY_18)

    assert {user.platform for user in telegram.users()} == {"telegram"}
    assert len(telegram.users()) == len(discord.users()) == 10


class LosesTheLease:
    """A ledger whose lease cannot be renewed once ``notifier`` has sent 50 pushes."""

    def __init__(self, ledger: PushLedger, notifier: RecordingNotifier) -> None:
        self._ledger = ledger
        self._notifier = notifier

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        return len(self._notifier.sent) < 50

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


async def test_a_lost_lease_stops_the_push(index: MovieIndex) -> None:
    store = MemoryProfileStore()
    recommender = recommender_on(index, store)
    await subscribe(recommender, store, 300)
    notifier = RecordingNotifier()
    ledger = LosesTheLease(MemoryPushLedger(), notifier)
    settings = replace(FAST, lease_seconds=0.03, per_second={"telegram": 500.0})
    push = WeeklyPush(recommender, store, ledger, [notifier], settings)  # type: ignore[arg-type]

    report = await push.run(FRIDAY_18)

    assert 50 <= report.sent < 300


async def test_the_rate_limit_spaces_starts_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    monkeypatch.setattr(asyncio, "sleep", sleep)
    limit = RateLimit(per_second=4, clock=lambda: 100.0)

    for _ in range(4):
        await limit.wait()

    assert slept == [0.25, 0.5, 0.75]
