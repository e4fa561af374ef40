"""Weekly slots in the user's time zone, and the ISO weeks their pushes belong to."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from core.models import Subscription


def slot_start(now: datetime, slot: Subscription) -> datetime:
    """The latest moment at or before ``now`` at the slot's weekday and hour, in the
    slot's time zone (``now`` must be aware)."""
    zone = ZoneInfo(slot.timezone)
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - slot.weekday) % 7)
    start = datetime.combine(day, clock_time(slot.hour), tzinfo=zone)
    return start if start <= local else start - timedelta(days=7)


def iso_week(day: date) -> str:
    """``2026-W48``: the ISO week of a date."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_apart(earlier: str, later: str) -> int:
    """How many weeks lie between two ISO weeks."""
    return (_monday(later) - _monday(earlier)).days // 7


def due_week(now: datetime, slot: Subscription, catch_up: timedelta) -> str | None:
    """The week whose push is due at ``now``, or ``None`` when the last slot is older
    than ``catch_up``."""
    start = slot_start(now, slot)
    return iso_week(start.date()) if now - start <= catch_up else None


def _monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)
