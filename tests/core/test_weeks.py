"""Weekly slots in the user's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import Subscription
from core.weeks import due_week, iso_week, slot_start, weeks_apart

FRIDAY_18_UTC = Subscription(weekday=4, hour=18)
HOURS_12 = timedelta(hours=12)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-27 18:00", "2026-11-27 18:00"),  # the slot itself
        ("2026-11-27 17:59", "2026-11-20 18:00"),  # a minute early: last week's
        ("2026-11-29 09:00", "2026-11-27 18:00"),
    ],
)
def test_the_latest_slot_at_or_before_now(now: str, expected: str) -> None:
    assert slot_start(at(now), FRIDAY_18_UTC) == at(expected)


def test_a_slot_is_in_the_users_time_zone() -> None:
    berlin = Subscription(weekday=0, hour=8, timezone="Europe/Berlin")  # Monday 08:00
    assert slot_start(at("2026-11-30 07:00"), berlin) == at("2026-11-30 07:00")  # CET = UTC+1
    assert slot_start(at("2026-06-29 06:00"), berlin) == at("2026-06-29 06:00")  # CEST = UTC+2
    tokyo = Subscription(weekday=5, hour=1, timezone="Asia/Tokyo")  # Saturday 01:00 JST
    assert slot_start(at("2026-11-27 16:30"), tokyo) == at("2026-11-27 16:00")  # Friday in UTC


def test_a_push_is_due_for_catch_up_hours_after_its_slot() -> None:
    assert due_week(at("2026-11-27 18:00"), FRIDAY_18_UTC, HOURS_12) == "2026-W48"
    assert due_week(at("2026-11-28 06:00"), FRIDAY_18_UTC, HOURS_12) == "2026-W48"
    assert due_week(at("2026-11-28 06:01"), FRIDAY_18_UTC, HOURS_12) is None
    assert due_week(at("2026-11-27 17:00"), FRIDAY_18_UTC, HOURS_12) is None


def test_the_week_is_the_slots_local_week() -> None:
    # Sunday 23:00 in Auckland is Sunday 10:00 UTC: the same ISO week, 2026-W48.
    auckland = Subscription(weekday=6, hour=23, timezone="Pacific/Auckland")
    assert due_week(at("2026-11-29 10:30"), auckland, HOURS_12) == "2026-W48"
    # Monday 00:30 in Auckland is still Sunday in UTC, but the slot's week is the next one.
    early = Subscription(weekday=0, hour=0, timezone="Pacific/Auckland")
    assert due_week(at("2026-11-29 11:30"), early, HOURS_12) == "2026-W49"


def test_iso_weeks_across_a_year_end() -> None:
    assert iso_week(at("2026-12-31 12:00").date()) == "2026-W53"
    assert iso_week(at("2027-01-04 12:00").date()) == "2027-W01"
    assert weeks_apart("2026-W52", "2027-W02") == 3
    assert weeks_apart("2026-W48", "2026-W48") == 0
