"""Per-user limits that keep one person from keeping the bot busy for everyone."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Protocol

from core.models import UserRef


class RateLimit(Protocol):
    """At most so many requests per user in a sliding window of time."""

    async def allow(self, user: UserRef) -> bool:
        """Count a request of ``user``; ``False`` when they are over the limit."""
        ...


class UserRateLimit:
    """At most ``limit`` requests per user in any ``window`` seconds, counted in this
    process (memory bounded)."""

    def __init__(self, limit: int = 10, window: float = 30.0, users: int = 10_000) -> None:
        self._limit, self._window, self._users = limit, window, users
        self._recent: OrderedDict[UserRef, deque[float]] = OrderedDict()

    async def allow(self, user: UserRef, now: float | None = None) -> bool:
        """Count a request of ``user``; ``False`` when they are over the limit."""
        now = time.monotonic() if now is None else now
        times = self._recent.pop(user, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        allowed = len(times) < self._limit
        if allowed:
            times.append(now)
        self._recent[user] = times
        if len(self._recent) > self._users:
            self._recent.popitem(last=False)
        return allowed
