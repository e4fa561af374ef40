"""How the Telegram bot meets load and a flaky network.

Updates of different users are handled concurrently, while each user's own updates run
one at a time, in the order they were sent (a pick is never handled before the search
that showed it). A request that Telegram did not take, because of a server error or a
lost connection, is sent again after a pause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64
# Marking the button a user just pressed answers that press; it is not one of the
# messages Telegram's broadcast limit (about 30 per second) counts, so it does not wait
# behind them (a RetryAfter from Telegram is still obeyed).
UNMETERED = frozenset({"editMessageReplyMarkup"})
RESENDS = 5
FIRST_PAUSE_SECONDS = 0.5  # doubled before each further resend: 15.5 s in all


@dataclass
class _Lane:
    """One user's updates: the lock they take turns on, and how many hold or await it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    updates: int = 0


class OneUpdatePerUser(BaseUpdateProcessor):
    """Handles up to ``max_concurrent_updates`` updates at once, at most one per user."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._lanes: dict[Hashable, _Lane] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _sender(update)
        lane = self._lanes.setdefault(key, _Lane())
        lane.updates += 1
        try:
            async with lane.lock:
                await coroutine
        finally:
            lane.updates -= 1
            if lane.updates == 0:
                del self._lanes[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def _sender(update: object) -> Hashable:
    """Who sent ``update``: updates without a user share one lane."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


class ResendingRateLimiter(AIORateLimiter):
    """Telegram's flood limits and ``RetryAfter`` (as :class:`AIORateLimiter`, except
    for ``UNMETERED`` requests), plus up to ``RESENDS`` resends of a request that failed
    with a server error or a lost connection. A request that timed out is not resent: it
    may have arrived."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint in UNMETERED:
            data = {key: value for key, value in data.items() if key != "chat_id"}
        pause = FIRST_PAUSE_SECONDS
        for resends_left in range(RESENDS, -1, -1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except TimedOut:
                raise
            except NetworkError as error:
                if not resends_left:
                    raise
                log.warning("telegram %s failed (%s); resending in %.1f s", endpoint, error, pause)
                await asyncio.sleep(pause)
                pause *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")
