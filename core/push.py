"""The weekly push: who is due, what each receives, and sending it once per week.

**When.** A subscription names a weekday and an hour in the user's time zone. At a
moment ``now``, a user is due when the latest such slot is at most ``catch_up_hours``
old: a run that comes late (the bot was down at the slot) still serves it. The push of
a slot belongs to the ISO week of the slot's local date.

**What.** Exploratory recommendations (see ``Recommender.explore_many``) at a set
strength, leaving out the user's picks and dislikes and what they were pushed in the
weeks the ledger remembers. Users are planned in batches, each with one Faiss search.

**Once.** Only the holder of the ledger's lease sends; it renews the lease while it
runs, and stops starting sends once the lease is lost or ``stop`` is set. Each push is
claimed in the ledger (with the process and the time) before it is sent and settled
after: ``SENT`` and ``GONE`` keep the claim, ``FAILED`` gives it back for a later run.
Claim, send and settle run as one task that cancelling the run does not cut, and a run
returns only when its sends in flight are settled. A process killed between claim and
settle leaves claims that the next run, in any process, takes over once they are a
lease old: those users (at most ``concurrency`` per platform) get the week's push, on
Telegram perhaps twice; Discord drops the second copy by the push's nonce. A user who
blocked the bot (``GONE``) is unsubscribed, with a notice kept to tell them why the
next time they talk to the bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from core.errors import MovieBotError
from core.models import Delivery, Notice, Recommendation, UserRef
from core.ports import Notifier, ProfileStore, PushLedger
from core.recommender import Recommender
from core.weeks import due_week

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PushSettings:
    """How many movies, how far out, how late, and how fast."""

    picks: int = 3
    strength: float = 0.5
    catch_up_hours: float = 12.0
    batch_size: int = 1_000
    lease_seconds: float = 60.0
    per_second: Mapping[str, float] = field(
        default_factory=lambda: {"telegram": 25.0, "discord": 25.0}
    )
    """Sends started per second and platform: under Telegram's ~30 messages/s and
    Discord's 50 requests/s (a DM to a new user takes two requests)."""
    concurrency: int = 20
    """Sends in flight per platform: a send waits for the platform's answer."""


@dataclass(frozen=True, slots=True)
class PlannedPush:
    """One user's push: the week it belongs to and the movies it carries."""

    user: UserRef
    week: str
    picks: tuple[Recommendation, ...]


@dataclass(slots=True)
class PushReport:
    """What a run did; ``leader`` is ``False`` when another process held the lease."""

    leader: bool = True
    planned: int = 0
    sent: int = 0
    gone: int = 0
    failed: int = 0
    skipped: int = 0
    """Claimed by another run first."""

    def count(self, delivery: Delivery) -> None:
        """Add one outcome."""
        if delivery is Delivery.SENT:
            self.sent += 1
        elif delivery is Delivery.GONE:
            self.gone += 1
        else:
            self.failed += 1


class RateLimit:
    """Spaces starts evenly: at most ``per_second`` a second."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / per_second
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        """Return when the next start is allowed."""
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class WeeklyPush:
    """Plans and sends the weekly picks of every due subscriber, once per week."""

    def __init__(
        self,
        recommender: Recommender,
        store: ProfileStore,
        ledger: PushLedger,
        notifiers: Sequence[Notifier],
        settings: PushSettings | None = None,
    ) -> None:
        self._recommender = recommender
        self._store = store
        self._ledger = ledger
        self._notifiers = {notifier.platform: notifier for notifier in notifiers}
        self._settings = settings or PushSettings()
        self._holder = f"push-{uuid.uuid4().hex}"
        self._in_flight: set[asyncio.Task[None]] = set()

    async def plan(
        self, now: datetime, platforms: Collection[str] | None = None
    ) -> AsyncIterator[list[PlannedPush]]:
        """The pushes due at ``now`` and not yet claimed, in batches, for users of
        ``platforms`` (default: those of the notifiers)."""
        catch_up = timedelta(hours=self._settings.catch_up_hours)
        reachable = self._notifiers.keys() if platforms is None else platforms
        counts = await self._store.pick_counts([m.movie_id for m in self._recommender.index.movies])
        due: list[tuple[UserRef, str]] = []
        async for user, subscription in self._store.subscribers():
            week = due_week(now, subscription, catch_up)
            if week is not None and user.platform in reachable:
                due.append((user, week))
            if len(due) == self._settings.batch_size:
                yield await self._planned(due, counts)
                due = []
        if due:
            yield await self._planned(due, counts)

    async def run(
        self, now: datetime | None = None, stop: asyncio.Event | None = None
    ) -> PushReport:
        """Send every push due at ``now`` (default: the current time), unless another
        process leads. Once ``stop`` is set or the lease is lost, it starts no more
        sends, lets those in flight finish, and returns."""
        now = now or datetime.now(UTC)
        if not await self._ledger.acquire_lease(self._holder, self._settings.lease_seconds):
            log.info("weekly push: another process leads, nothing to do")
            return PushReport(leader=False)
        lost = asyncio.Event()
        renewing = asyncio.create_task(self._keep_lease(lost))

        def halted() -> bool:
            return lost.is_set() or (stop is not None and stop.is_set())

        try:
            return await self._send_all(now, halted)
        finally:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            renewing.cancel()
            await self._ledger.release_lease(self._holder)

    async def _planned(
        self, due: list[tuple[UserRef, str]], counts: Sequence[int]
    ) -> list[PlannedPush]:
        """Each due user's picks; ``counts``: pick counts in ``index.movies`` order, read
        once per run."""
        users = [user for user, _ in due]
        profiles = await self._store.load_many(users)
        histories = await self._ledger.history(users)
        fresh = [n for n, (_, week) in enumerate(due) if week not in histories[n].weeks]
        picks = await asyncio.to_thread(
            self._recommender.explore_many,
            [profiles[n] for n in fresh],
            [histories[n].movie_ids for n in fresh],
            counts,
            self._settings.picks,
            self._settings.strength,
            np.random.default_rng(),
        )
        return [
            PlannedPush(due[n][0], due[n][1], tuple(found))
            for n, found in zip(fresh, picks, strict=True)
            if found
        ]

    async def _send_all(self, now: datetime, halted: Callable[[], bool]) -> PushReport:
        report = PushReport()
        rates = {
            name: RateLimit(self._settings.per_second.get(name, 10.0)) for name in self._notifiers
        }
        async for batch in self.plan(now):
            if halted():
                break
            report.planned += len(batch)
            try:
                async with asyncio.TaskGroup() as sending:
                    for platform, notifier in self._notifiers.items():
                        queue = iter([push for push in batch if push.user.platform == platform])
                        for _ in range(self._settings.concurrency):
                            sending.create_task(
                                self._send_each(notifier, rates[platform], queue, report, halted)
                            )
            except ExceptionGroup as errors:
                raise _first_outage(errors) from None
            log.info(
                "weekly push: %d sent, %d gone, %d failed, %d skipped of %d planned so far",
                report.sent,
                report.gone,
                report.failed,
                report.skipped,
                report.planned,
            )
        return report

    async def _send_each(
        self,
        notifier: Notifier,
        rate: RateLimit,
        queue: Iterator[PlannedPush],
        report: PushReport,
        halted: Callable[[], bool],
    ) -> None:
        """Send pushes from the shared ``queue`` until it is empty or the run is halted."""
        for push in queue:
            await rate.wait()
            if halted():
                return
            delivery = asyncio.create_task(self._deliver(notifier, push, report))
            self._in_flight.add(delivery)
            delivery.add_done_callback(self._in_flight.discard)
            await asyncio.shield(delivery)

    async def _deliver(self, notifier: Notifier, push: PlannedPush, report: PushReport) -> None:
        """Claim, send and settle one push."""
        stale_after = self._settings.lease_seconds
        token = await self._ledger.claim(push.user, push.week, self._holder, stale_after)
        if token is None:
            report.skipped += 1
            return
        delivery = await notifier.send_picks(push.user, push.picks, push_key(push))
        movie_ids = [pick.movie.movie_id for pick in push.picks]
        await self._ledger.settle(push.user, push.week, token, delivery, movie_ids)
        if delivery is Delivery.GONE:
            await self._store.set_subscription(push.user, None)
            await self._store.add_notice(push.user, Notice.PICKS_STOPPED)
        report.count(delivery)

    async def _keep_lease(self, lost: asyncio.Event) -> None:
        """Renew the lease at a third of its length; set ``lost`` once it is lost."""
        seconds = self._settings.lease_seconds
        while not lost.is_set():
            await asyncio.sleep(seconds / 3)
            try:
                kept = await self._ledger.acquire_lease(self._holder, seconds)
            except MovieBotError as error:
                log.warning("weekly push: could not renew the lease (%s)", error)
                kept = False
            if not kept:
                log.warning("weekly push: lost the lease; stopping")
                lost.set()


def _first_outage(errors: ExceptionGroup[Exception]) -> Exception:
    """The store outage that stopped the sends (the run is tried again at the next
    check); anything else is a bug and stays a group."""
    _, others = errors.split(MovieBotError)
    first = errors.exceptions[0]
    return first if others is None and isinstance(first, MovieBotError) else errors


def push_key(push: PlannedPush) -> str:
    """The same for every try of one user's push of one week."""
    return f"{push.week}:{push.user.key}"
