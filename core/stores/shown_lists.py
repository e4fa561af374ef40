"""How long the lists users were shown are kept, and a ListStore in process memory."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.models import ShownList, UserRef

KEPT_LISTS = 10
"""A user's newest lists kept; "more" on an older one says the list has expired."""
KEPT_SECONDS = 2 * 86_400
"""How long a user's lists are kept after the newest was shown."""


@dataclass
class _UserLists:
    newest_at: float
    lists: dict[int, ShownList] = field(default_factory=dict)


class MemoryListStore:
    """A user's ``kept`` newest lists, for ``seconds`` after the newest, for at most
    ``users`` users (those heard from last)."""

    def __init__(
        self,
        kept: int = KEPT_LISTS,
        seconds: float = KEPT_SECONDS,
        users: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._kept, self._seconds, self._users, self._clock = kept, seconds, users, clock
        self._users_lists: OrderedDict[UserRef, _UserLists] = OrderedDict()

    async def save(self, user: UserRef, list_id: int, shown: ShownList) -> None:
        now = self._clock()
        kept = self._fresh(user, now) or _UserLists(now)
        kept.newest_at = now
        kept.lists[list_id] = shown
        for oldest in sorted(kept.lists)[: -self._kept]:
            del kept.lists[oldest]
        self._users_lists[user] = kept
        self._users_lists.move_to_end(user)
        if len(self._users_lists) > self._users:
            self._users_lists.popitem(last=False)

    async def load(self, user: UserRef, list_id: int) -> ShownList | None:
        kept = self._fresh(user, self._clock())
        return None if kept is None else kept.lists.get(list_id)

    def forget(self, user: UserRef) -> None:
        """Drop every list of the user."""
        self._users_lists.pop(user, None)

    def _fresh(self, user: UserRef, now: float) -> _UserLists | None:
        kept = self._users_lists.get(user)
        if kept is not None and now - kept.newest_at > self._seconds:
            del self._users_lists[user]
            return None
        return kept
