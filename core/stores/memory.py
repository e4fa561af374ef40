"""A ProfileStore in process memory, for the demo and for contract tests."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Sequence

from core.models import Subscription, TasteProfile, UserRef
from core.ports import ProfileChange, StoredProfile


class MemoryProfileStore:
    """Keeps profiles in dictionaries; one lock serializes updates, like a transaction."""

    def __init__(self) -> None:
        self._profiles: dict[UserRef, TasteProfile] = {}
        self._seen_keys: defaultdict[UserRef, set[str]] = defaultdict(set)
        self._pick_counts: Counter[int] = Counter()
        self._subscriptions: dict[UserRef, Subscription] = {}
        self._lock = asyncio.Lock()

    async def load(self, user: UserRef) -> TasteProfile | None:
        return self._profiles.get(user)

    async def update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None = None
    ) -> StoredProfile:
        async with self._lock:
            current = self._profiles.get(user)
            if idempotency_key is not None and idempotency_key in self._seen_keys[user]:
                return StoredProfile(current, applied=False)
            new = change(current)
            if new is None:
                return StoredProfile(current, applied=False)
            self._count_picks(current, new)
            self._profiles[user] = new
            if idempotency_key is not None:
                self._seen_keys[user].add(idempotency_key)
            return StoredProfile(new, applied=True)

    async def forget(self, user: UserRef) -> None:
        async with self._lock:
            profile = self._profiles.pop(user, None)
            if profile is not None:
                self._pick_counts.subtract(profile.picked)
            self._seen_keys.pop(user, None)
            self._subscriptions.pop(user, None)

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        return tuple(max(self._pick_counts[movie_id], 0) for movie_id in movie_ids)

    async def subscription(self, user: UserRef) -> Subscription | None:
        return self._subscriptions.get(user)

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        if subscription is None:
            self._subscriptions.pop(user, None)
        else:
            self._subscriptions[user] = subscription

    def _count_picks(self, old: TasteProfile | None, new: TasteProfile) -> None:
        before = set(old.picked) if old else set()
        after = set(new.picked)
        self._pick_counts.update(after - before)
        self._pick_counts.subtract(before - after)
