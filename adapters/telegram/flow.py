"""How the Telegram bot meets load and a flaky network.

Updates of different users are handled concurrently, while each user's own updates run
one at a time, in the order they were sent (a pick is never handled before the search
that showed it); a user's or a group's updates that wait hold none of the shared slots,
and a user with too many waiting has the newest dropped. A request that Telegram did
not take, because of a server error or a lost connection, is sent again after a pause;
one that Telegram refused (4xx) is not.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64
MAX_WAITING = 10  # a user's updates waiting behind the one being handled
# Marking the button a user just pressed answers that press; it is not one of the
# messages Telegram's broadcast limit (about 30 per second) counts, so it does not wait
# behind them (a RetryAfter from Telegram is still obeyed).
UNMETERED = frozenset({"editMessageReplyMarkup"})
RESENDS = 5
FIRST_PAUSE_SECONDS = 0.5  # doubled before each further resend: 15.5 s in all
# An edit to what the message already shows: Telegram answers 400, the edit is done.
NOT_MODIFIED = "message is not modified"


@dataclass
class _Lane:
    """The updates of one user (or one group): the lock they take turns on, and how
    many hold or await it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    updates: int = 0


Dropped = Callable[[Update], Awaitable[None]]


class OneUpdatePerUser(BaseUpdateProcessor):
    """Handles up to ``max_concurrent_updates`` updates at once, at most one per user
    and one per group chat, and keeps at most ``max_waiting`` of a user's updates waiting
    (``on_dropped`` hears of each one dropped beyond that).

    An update takes its user's lane, then its group's, and only then one of the shared
    slots: an update waiting behind others of its user or group holds no slot, so one
    user or one busy group cannot keep everyone else waiting.
    """

    def __init__(
        self,
        max_concurrent_updates: int = CONCURRENT_UPDATES,
        max_waiting: int = MAX_WAITING,
        on_dropped: Dropped | None = None,
    ) -> None:
        # python-telegram-bot takes a slot of its own semaphore before do_process_update,
        # that is before an update has its lane: give it more slots than can ever be
        # taken and keep the real ones here.
        super().__init__(sys.maxsize)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._max_waiting = max_waiting
        self._on_dropped = on_dropped
        self._lanes: dict[Hashable, _Lane] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user_lane = self._lanes.get(_sender(update))
        if user_lane is not None and user_lane.updates > self._max_waiting:
            await self._drop(update, coroutine)
            return
        async with self._lane(_sender(update)), self._lane(_group(update)), self._slots:
            await coroutine

    @asynccontextmanager
    async def _lane(self, key: Hashable) -> AsyncIterator[None]:
        if key is _NO_LANE:
            yield
            return
        lane = self._lanes.setdefault(key, _Lane())
        lane.updates += 1
        try:
            async with lane.lock:
                yield
        finally:
            lane.updates -= 1
            if lane.updates == 0:
                del self._lanes[key]

    async def _drop(self, update: object, coroutine: Awaitable[Any]) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()
        log.info("dropped an update of %s: too many waiting", _sender(update))
        if self._on_dropped is not None and isinstance(update, Update):
            await self._on_dropped(update)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


_NO_LANE = object()


def _sender(update: object) -> Hashable:
    """Who sent ``update``: updates without a user share one lane."""
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


def _group(update: object) -> Hashable:
    """The group chat of ``update``, whose replies Telegram meters per chat; none for a
    private chat."""
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None or chat.type == ChatType.PRIVATE:
        return _NO_LANE
    return ("chat", chat.id)


class ResendingRateLimiter(AIORateLimiter):
    """Telegram's flood limits and ``RetryAfter`` (as :class:`AIORateLimiter`, except
    for ``UNMETERED`` requests), plus up to ``RESENDS`` resends of a request that failed
    with a server error or a lost connection. A request Telegram refused (4xx) is not
    resent: it would be refused again; an edit that changes nothing is done. A request
    that timed out is not resent: it may have arrived."""

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
            except BadRequest as error:
                if NOT_MODIFIED in error.message.lower():
                    return True
                raise
            except TimedOut:
                raise
            except NetworkError as error:
                if not resends_left:
                    raise
                log.warning("telegram %s failed (%s); resending in %.1f s", endpoint, error, pause)
                await asyncio.sleep(pause)
                pause *= 2
        raise AssertionError("unreachable: the last attempt returns or raises")
