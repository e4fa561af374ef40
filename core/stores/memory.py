"""A ProfileStore and a PushLedger in process memory, for the demo and for tests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from core.community import CoPickCounts, CoPickSettings, co_pick_changes, seeded_changes
from core.errors import StoreUnavailableError
from core.models import Delivery, Notice, PushHistory, Subscription, TasteProfile, UserRef
from core.ports import ProfileChange, StoredProfile
from core.stores.retention import (
    IDEMPOTENCY_TTL_SECONDS,
    REMEMBERED_WEEKS,
    fresh_keys,
    is_replay,
    remember_key,
)
from core.weeks import weeks_apart


class MemoryProfileStore:
    """Keeps profiles in dictionaries; one lock serializes updates, like a transaction.

    Idempotency keys expire as in every store (see :mod:`core.stores.retention`), on the
    time of ``clock``.
    """

    def __init__(
        self,
        *,
        idempotency_ttl: float = IDEMPOTENCY_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        community: CoPickSettings | None = None,
    ) -> None:
        self._profiles: dict[UserRef, TasteProfile] = {}
        self._co_picks = CoPickCounts(community or CoPickSettings())
        self._seeded: set[str] = set()
        self._seen_keys: dict[UserRef, dict[str, int]] = {}
        self._active_at: dict[UserRef, float] = {}
        self._pick_counts: Counter[int] = Counter()
        self._subscriptions: dict[UserRef, Subscription] = {}
        self._notices: dict[UserRef, set[Notice]] = {}
        self._languages: dict[UserRef, str] = {}
        self._ledger = MemoryPushLedger()
        self._idempotency_ttl = idempotency_ttl
        self._clock = clock
        self._lock = asyncio.Lock()

    def push_ledger(self) -> MemoryPushLedger:
        """The ledger of this store's weekly pushes, which ``forget`` clears too."""
        return self._ledger

    async def load(self, user: UserRef) -> TasteProfile | None:
        return self._profiles.get(user)

    async def load_many(self, users: Sequence[UserRef]) -> list[TasteProfile | None]:
        return [self._profiles.get(user) for user in users]

    async def update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None = None
    ) -> StoredProfile:
        async with self._lock:
            now = self._clock()
            fresh_after = now - self._idempotency_ttl
            current = self._profiles.get(user)
            seen = self._seen_keys.get(user, {})
            if is_replay(seen, idempotency_key, fresh_after):
                return StoredProfile(current, applied=False)
            new = change(current)
            if new is None:
                return StoredProfile(current, applied=False)
            self._count_picks(current, new)
            self._profiles[user] = new
            self._active_at[user] = now
            if idempotency_key is not None:
                remember_key(seen, idempotency_key, now)
            self._seen_keys[user] = fresh_keys(seen, fresh_after)
            return StoredProfile(new, applied=True)

    async def forget(self, user: UserRef) -> None:
        async with self._lock:
            profile = self._profiles.pop(user, None)
            if profile is not None:
                self._count_picks(profile, None)
            self._seen_keys.pop(user, None)
            self._active_at.pop(user, None)
            self._subscriptions.pop(user, None)
            self._notices.pop(user, None)
            self._languages.pop(user, None)
            self._ledger.forget(user)

    async def forget_inactive(self, before: float) -> int:
        inactive = [user for user, at in self._active_at.items() if at < before]
        for user in inactive:
            await self.forget(user)
        return len(inactive)

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        return tuple(max(self._pick_counts[movie_id], 0) for movie_id in movie_ids)

    async def co_picks(self, movie_ids: Sequence[int]) -> list[dict[int, int]]:
        return [self._co_picks.neighbours(movie_id) for movie_id in movie_ids]

    async def seed_community(self, source: str, histories: Sequence[Sequence[int]]) -> bool:
        async with self._lock:
            if source in self._seeded:
                return False
            pairs, picks = seeded_changes(histories, self._co_picks.settings.window)
            self._co_picks.apply(pairs)
            self._pick_counts.update(picks)
            self._seeded.add(source)
            return True

    async def subscription(self, user: UserRef) -> Subscription | None:
        return self._subscriptions.get(user)

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        if subscription is None:
            self._subscriptions.pop(user, None)
        else:
            self._subscriptions[user] = subscription

    async def subscribers(self) -> AsyncIterator[tuple[UserRef, Subscription]]:
        for user, subscription in list(self._subscriptions.items()):
            yield user, subscription

    def _count_picks(self, old: TasteProfile | None, new: TasteProfile | None) -> None:
        """Move the pick and co-pick counts by the change of one user's picks."""
        before, after = old.picked if old else (), new.picked if new else ()
        self._pick_counts.update(set(after) - set(before))
        self._pick_counts.subtract(set(before) - set(after))
        self._co_picks.apply(co_pick_changes(before, after, self._co_picks.settings.window))

    async def language(self, user: UserRef) -> str | None:
        return self._languages.get(user)

    async def set_language(self, user: UserRef, language: str | None) -> None:
        if language is None:
            self._languages.pop(user, None)
        else:
            self._languages[user] = language

    async def add_notice(self, user: UserRef, notice: Notice) -> None:
        self._notices.setdefault(user, set()).add(notice)

    async def take_notices(self, user: UserRef) -> frozenset[Notice]:
        return frozenset(self._notices.pop(user, ()))


@dataclass(frozen=True, slots=True)
class _Claim:
    """A push on its way: who claimed it (the token names them) and when."""

    token: str
    at: float


class MemoryPushLedger:
    """Push claims, pushed movies and the lease in dictionaries."""

    def __init__(
        self, remembered_weeks: int = REMEMBERED_WEEKS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._remembered_weeks = remembered_weeks
        self._clock = clock
        self._pushes: defaultdict[UserRef, dict[str, tuple[int, ...] | _Claim]] = defaultdict(dict)
        self._lease: tuple[str, float] | None = None

    async def claim(self, user: UserRef, week: str, holder: str, stale_after: float) -> str | None:
        now = self._clock()
        held = self._pushes[user].get(week)
        if held is not None and not (isinstance(held, _Claim) and now - held.at >= stale_after):
            return None
        claim = _Claim(f"@{holder}@{now}", now)
        self._pushes[user][week] = claim
        return claim.token

    async def settle(
        self, user: UserRef, week: str, token: str, delivery: Delivery, movie_ids: Sequence[int]
    ) -> None:
        weeks = self._pushes.get(user, {})
        held = weeks.get(week)
        if not isinstance(held, _Claim) or held.token != token:
            return
        if delivery is Delivery.FAILED:
            del weeks[week]
            return
        weeks[week] = tuple(movie_ids) if delivery is Delivery.SENT else ()
        for old in [w for w in weeks if weeks_apart(w, week) >= self._remembered_weeks]:
            del weeks[old]

    async def history(self, users: Sequence[UserRef]) -> list[PushHistory]:
        settled = [
            {w: ids for w, ids in self._pushes.get(user, {}).items() if isinstance(ids, tuple)}
            for user in users
        ]
        return [
            PushHistory(frozenset(weeks), frozenset(i for ids in weeks.values() for i in ids))
            for weeks in settled
        ]

    def forget(self, user: UserRef) -> None:
        """Drop the user's push history."""
        self._pushes.pop(user, None)

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        now = self._clock()
        if self._lease is not None and self._lease[0] != holder and self._lease[1] > now:
            return False
        self._lease = (holder, now + seconds)
        return True

    async def release_lease(self, holder: str) -> None:
        if self._lease is not None and self._lease[0] == holder:
            self._lease = None


class MemoryBackend:
    """A MemoryProfileStore and its push ledger: nothing to reach, nothing to close."""

    def __init__(self, community: CoPickSettings | None = None) -> None:
        self.store = MemoryProfileStore(community=community)
        self.push_ledger = self.store.push_ledger()

    async def readiness(self) -> StoreUnavailableError | None:
        """Always ``None``: memory is always there."""
        return None

    async def close(self) -> None:
        """Nothing to close."""
