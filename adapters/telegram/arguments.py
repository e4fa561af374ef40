"""The arguments Telegram users type after a command, read (or refused in their words)."""

from __future__ import annotations

import math

from adapters import texts
from adapters.i18n import N_, Words
from adapters.texts import UsageError

SUBSCRIBE_USAGE = N_(
    "Usage: /subscribe [day] [hour] [time zone], for example /subscribe fri 18 Europe/Berlin"
)
STRENGTH_USAGE = N_("Strength is a number from 0 to 1, like /explore 0.5")
LANGUAGE_USAGE = N_("Usage: /language, or /language followed by en or ru")
SIMILAR_USAGE = N_("Name a movie, like /similar Die Hard")


def slot(words: Words, args: list[str]) -> tuple[int | None, int | None, str | None]:
    """``[day] [hour] [time zone]`` in any order: ``fri``, ``18``, ``Europe/Berlin``."""
    days = _days(words)
    weekday = hour = timezone = None
    for arg in args:
        if arg.isalpha() and (day := _day(days, arg.lower())) is not None:
            weekday = day
        elif arg.isdecimal() and len(arg) <= 2:
            hour = int(arg)
        elif "/" in arg or arg.upper() == "UTC":
            timezone = "UTC" if arg.upper() == "UTC" else arg
        else:
            raise UsageError(SUBSCRIBE_USAGE)
    return weekday, hour, timezone


def strength(args: list[str]) -> float | None:
    """The strength of ``/explore [strength]``, ``None`` when not given."""
    if not args:
        return None
    try:
        value = float(args[0])
    except ValueError:
        raise UsageError(STRENGTH_USAGE) from None
    if not math.isfinite(value):
        raise UsageError(STRENGTH_USAGE)
    return value


def movie_title(args: list[str]) -> str:
    """The title of ``/similar <title>``."""
    title = " ".join(args)
    if not title:
        raise UsageError(SIMILAR_USAGE)
    return title


def _days(words: Words) -> dict[str, int]:
    """What a user may type for each weekday: its English abbreviation, or its
    abbreviation or name in their language."""
    days = {name: number for number, name in enumerate(texts.WEEKDAY_ABBREVIATIONS)}
    for number, name in enumerate(texts.WEEKDAY_ABBREVIATIONS):
        days[words.pgettext("weekday abbreviation", name).lower()] = number
        days[words.pgettext("weekday", texts.WEEKDAYS[number]).lower()] = number
    return days


def _day(days: dict[str, int], typed: str) -> int | None:
    """The weekday a typed word names: an abbreviation, or a word that starts with one
    (``friday``, ``пятница``)."""
    return next((number for name, number in days.items() if typed.startswith(name)), None)
