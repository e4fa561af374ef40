"""The weekly push, checked by APScheduler inside the bot's event loop.

Every ``CHECK_EVERY_MINUTES`` (and once at start) the job sends the pushes that are due:
slots are hours in each user's time zone, and zones that are 30 or 45 minutes off UTC
are served within a quarter of an hour. A check delayed by a busy loop still runs, late,
within ``MISFIRE_GRACE_HOURS`` (coalesced into one); slots missed while the bot was down
are served by the push's catch-up window at the first check after the start. Several
bot processes may run this job: the push's lease lets one of them send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from core.errors import MovieBotError
from core.push import PushReport, WeeklyPush

log = logging.getLogger(__name__)
CHECK_EVERY_MINUTES = 15
MISFIRE_GRACE_HOURS = 6
JOB_ID = "weekly-push"


def push_trigger() -> CronTrigger:
    """Every quarter of an hour, in UTC."""
    return CronTrigger(minute=f"*/{CHECK_EVERY_MINUTES}", timezone=UTC)


@contextmanager
def scheduled_push(
    push: WeeklyPush, stop: asyncio.Event, on_report: Callable[[PushReport], None]
) -> Iterator[AsyncIOScheduler]:
    """Run the push check on its schedule in the running event loop while the block runs,
    handing each run's report to ``on_report``; ``stop`` makes a push in progress finish
    the sends in flight and return."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _check,
        push_trigger(),
        args=[push, stop, on_report],
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
        scheduler.shutdown(wait=False)


async def _check(
    push: WeeklyPush, stop: asyncio.Event, on_report: Callable[[PushReport], None]
) -> None:
    """One check: send what is due; an outage is logged and retried at the next check."""
    try:
        report = await push.run(stop=stop)
    except MovieBotError as error:
        log.warning("weekly push failed, retried at the next check: %s", error)
        return
    on_report(report)
    if report.leader and report.planned:
        log.info("weekly push done: %s", report)
