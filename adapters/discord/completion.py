"""What the slash commands offer while the user types: titles of the catalog and time
zones, within Discord's limits."""

from __future__ import annotations

import asyncio
import functools

from discord import app_commands

from adapters.texts import shorten
from core.browsing import Browser
from core.subscriptions import known_timezones

MAX_CHOICES = 25  # Discord's limit on the choices of an autocomplete
CHOICE_CHARS = 100  # and on the name and the value of each


async def title_choices(
    browser: Browser, typed: str, *, with_year: bool
) -> list[app_commands.Choice[str]]:
    """Titles that start with ``typed``, their value the title (with its year when
    ``with_year``). Found in a worker thread: a catalog of a million titles takes up to
    a second (benchmarks/bench_titles.py), which no other user waits for."""
    movies = await asyncio.to_thread(browser.complete, typed, MAX_CHOICES)
    return [
        app_commands.Choice(
            name=_choice(movie.label), value=_choice(movie.label if with_year else movie.title)
        )
        for movie in movies
    ]


def timezone_choices(typed: str) -> list[app_commands.Choice[str]]:
    """Time zones whose name holds ``typed``."""
    matches = [zone for zone in _timezones() if typed.lower() in zone.lower()]
    return [app_commands.Choice(name=zone, value=zone) for zone in matches[:MAX_CHOICES]]


def _choice(text: str) -> str:
    return shorten(text, CHOICE_CHARS)


@functools.cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(known_timezones()))
