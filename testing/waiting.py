"""Waiting for a condition in a test: poll it until it holds, or fail naming it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.02


async def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    *,
    message: str | Callable[[], str] | None = None,
) -> T:
    """Poll ``predicate`` every 20 ms until it returns something truthy, and return that.

    Raises AssertionError naming the condition (and ``message``) when ``timeout`` passes.
    """
    for value in _polls(predicate, timeout, message):
        if value:
            return value
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("unreachable: polling ends by returning or raising")


def wait_until_sync(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    *,
    message: str | Callable[[], str] | None = None,
) -> T:
    """The blocking twin of :func:`wait_until`, for code outside an event loop."""
    for value in _polls(predicate, timeout, message):
        if value:
            return value
        time.sleep(POLL_SECONDS)
    raise AssertionError("unreachable: polling ends by returning or raising")


def _polls(
    predicate: Callable[[], T], timeout: float, message: str | Callable[[], str] | None
) -> Iterator[T]:
    """``predicate()`` once per poll, for ever; AssertionError once ``timeout`` has passed
    with a falsy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if not value and time.monotonic() >= deadline:
            raise AssertionError(_timeout_message(predicate, timeout, message))
        yield value


def _timeout_message(
    predicate: Callable[[], Any], timeout: float, message: str | Callable[[], str] | None
) -> str:
    name = getattr(predicate, "__qualname__", repr(predicate))
    text = f"condition {name} still false after {timeout:g} s"
    if message is not None:
        text += f": {message() if callable(message) else message}"
    return text
