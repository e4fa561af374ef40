"""Per-user limits that keep one person from keeping the bot busy for everyone."""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from core.models import UserRef


class SearchRateLimit:
    """At most ``limit`` searches per user in any ``window`` seconds (memory bounded)."""

    def __init__(self, limit: int = 10, window: float = 30.0, users: int = 10_000) -> None:
        self._limit, self._window, self._users = limit, window, users
        self._recent: OrderedDict[UserRef, deque[float]] = OrderedDict()

    def allow(self, user: UserRef, now: float | None = None) -> bool:
        """Count a search of ``user``; ``False`` when they are over the limit."""
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
