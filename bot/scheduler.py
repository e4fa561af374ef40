"""The weekly push, checked by APScheduler inside the bot's event loop.

Every ``CHECK_EVERY_MINUTES`` (and once at start) the job sends the pushes that are due:
slots are hours in each user's time zone, and zones that are 30 or 45 minutes off UTC
are served within a quarter of an hour. A check delayed by a busy loop still runs, late,
within ``MISFIRE_GRACE_HOURS`` (coalesced into one); slots missed while the bot was down
are served by the push's catch-up window at the first check after the start. Several
bot processes may run this job: the push's lease lets one of them send.

Once a day, users inactive for longer than the configured months are forgotten.

On shutdown a check in progress starts no more sends and is given ``SHUTDOWN_GRACE_SECONDS``
to settle those in flight, within the 10 seconds Docker waits after SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from core.errors import MovieBotError
from core.ports import ProfileStore
from core.push import PushReport, WeeklyPush

log = logging.getLogger(__name__)
CHECK_EVERY_MINUTES = 15
MISFIRE_GRACE_HOURS = 6
JOB_ID = "weekly-push"
FORGET_JOB_ID = "forget-inactive"
MONTH_SECONDS = 30 * 86_400
SHUTDOWN_GRACE_SECONDS = 8.0


def push_trigger() -> CronTrigger:
    """Every quarter of an hour, in UTC."""
    return CronTrigger(minute=f"*/{CHECK_EVERY_MINUTES}", timezone=UTC)


class PushCheck:
    """The job: one check at a time, which shutdown can wait for."""

    def __init__(
        self, push: WeeklyPush, stop: asyncio.Event, on_report: Callable[[PushReport], None]
    ) -> None:
        self._push = push
        self._stop = stop
        self._on_report = on_report
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self) -> None:
        """Send what is due; an outage is logged and retried at the next check."""
        self._idle.clear()
        try:
            report = await self._push.run(stop=self._stop)
        except MovieBotError as error:
            log.warning("weekly push failed, retried at the next check: %s", error)
            return
        finally:
            self._idle.set()
        self._on_report(report)
        if report.leader and report.planned:
            log.info("weekly push done: %s", report)

    async def finished(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a check in progress; ``False`` if it still runs."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True


@asynccontextmanager
async def scheduled_push(
    push: WeeklyPush, stop: asyncio.Event, on_report: Callable[[PushReport], None]
) -> AsyncIterator[AsyncIOScheduler]:
    """Run the push check on its schedule in the running event loop while the block runs,
    handing each run's report to ``on_report``. Set ``stop`` before leaving the block:
    a check in progress then finishes the sends in flight, waited for a bounded time."""
    check = PushCheck(push, stop, on_report)
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        check.run,
        push_trigger(),
        id=JOB_ID,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_HOURS * 3600,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.pause()
        if not await check.finished(SHUTDOWN_GRACE_SECONDS):
            log.warning(
                "weekly push: sends still in flight after %.0f s; the next run takes "
                "over their claims",
                SHUTDOWN_GRACE_SECONDS,
            )
        scheduler.shutdown(wait=False)


@asynccontextmanager
async def scheduled_forgetting(store: ProfileStore, months: int) -> AsyncIterator[AsyncIOScheduler]:
    """Forget the users inactive for ``months`` months every day at 04:00 UTC, and once
    at start, while the block runs."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        forget_inactive,
        CronTrigger(hour=4, timezone=UTC),
        args=[store, months],
        id=FORGET_JOB_ID,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


async def forget_inactive(store: ProfileStore, months: int) -> int:
    """Forget the users whose profile has not changed for ``months`` months; an outage is
    logged and left to the next day."""
    try:
        forgotten = await store.forget_inactive(time.time() - months * MONTH_SECONDS)
    except MovieBotError as error:
        log.warning("could not forget inactive users, tried again tomorrow: %s", error)
        return 0
    if forgotten:
        log.info("forgot %d users inactive for %d months", forgotten, months)
    return forgotten
