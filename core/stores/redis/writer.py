"""The batched writer of profile updates (see "Updates are committed in batches" in the
package docstring)."""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from redis.asyncio import RedisCluster
from redis.exceptions import RedisError, WatchError
from redis.typing import EncodableT, FieldT

from core.community import CoPickMoves, CoPickSettings
from core.errors import StoreUnavailableError
from core.models import TasteProfile, UserRef
from core.ports import ProfileChange, StoredProfile
from core.stores.profile_hash import (
    ACTIVE_AT,
    SEEN,
    DecodedProfile,
    RecentProfiles,
    SlottedVectors,
    encode_profile,
    encode_seen,
)
from core.stores.redis.availability import (
    CONFLICT_ATTEMPTS,
    READ_RETRY_DELAYS,
    Gate,
    conflict_backoff,
    drop_idle_connections,
    is_unavailable,
    unavailable_as_error,
)
from core.stores.redis.client import AnyPipeline, Client, bytes_hash
from core.stores.redis.global_keys import (
    commit_with_global_keys,
    move_co_picks,
    move_pick_counts,
    pick_count_changes,
)
from core.stores.redis.keys import RedisKeys
from core.stores.retention import fresh_keys, is_replay, remember_key

MAX_BATCH = 256
CLUSTER_TRANSACTIONS = 32


@dataclass(slots=True)
class _Update:
    """One waiting call of ``update``."""

    user: UserRef
    change: ProfileChange
    idempotency_key: str | None
    done: asyncio.Future[StoredProfile]


Batch = dict[UserRef, list[_Update]]
"""Waiting updates by user, each user's in the order they came."""


@dataclass(slots=True)
class _UserPlan:
    """One user's part of a batch: the stored hash, the profile after each update so far
    with its vectors and idempotency keys, the fields to write (``None`` when nothing
    changed), and the outcome of each update."""

    user: UserRef
    stored: dict[bytes, bytes]
    before: TasteProfile | None = None
    after: TasteProfile | None = None
    vectors: SlottedVectors | None = None
    seen: dict[str, int] = field(default_factory=dict)
    fields: dict[bytes, bytes] | None = None
    outcomes: list[StoredProfile | Exception] = field(default_factory=list)

    def written(self) -> DecodedProfile | None:
        """What the user's hash holds once this plan is written; ``None``: no change."""
        if self.fields is None or self.after is None or self.vectors is None:
            return None
        return DecodedProfile(self.fields, self.after, self.vectors, self.seen)


class BatchWriter:
    """Commits waiting updates in batches, one batch at a time (see the package docstring)."""

    def __init__(
        self,
        client: Client,
        gate: Gate,
        keys: RedisKeys,
        recent: RecentProfiles,
        idempotency_ttl: float,
        clock: Callable[[], float],
        community: CoPickSettings,
    ) -> None:
        self._client = client
        self._community = community
        self._gate = gate
        self._cluster = isinstance(client, RedisCluster)
        self._transactions = asyncio.Semaphore(CLUSTER_TRANSACTIONS)
        self._keys = keys
        self._recent = recent
        self._idempotency_ttl = idempotency_ttl
        self._clock = clock
        self._waiting: deque[_Update] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def submit(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None
    ) -> StoredProfile:
        """Wait for the update to be committed with its batch, and return its outcome."""
        loop = asyncio.get_running_loop()
        update = _Update(user, change, idempotency_key, loop.create_future())
        self._waiting.append(update)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return await update.done

    async def close(self) -> None:
        """Stop writing and fail every update still waiting."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        while self._waiting:
            _settle(self._waiting.popleft(), StoreUnavailableError("the profile store is closed"))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                count = min(len(self._waiting), MAX_BATCH)
                await self._commit([self._waiting.popleft() for _ in range(count)])

    async def _commit(self, updates: list[_Update]) -> None:
        """Commit a batch and settle every update; on a cluster, each user's updates are
        a transaction of their own (see the package docstring)."""
        batch: Batch = {}
        for update in updates:
            batch.setdefault(update.user, []).append(update)
        if not self._cluster:
            await self._commit_batch(batch)
            return
        await asyncio.gather(*(self._commit_alongside({user: batch[user]}) for user in batch))

    async def _commit_alongside(self, batch: Batch) -> None:
        """One user's cluster transaction, at most ``CLUSTER_TRANSACTIONS`` at once: each
        holds two connections, and a cluster client fails when they run out."""
        async with self._transactions:
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: Batch) -> None:
        """Commit a batch in one transaction and settle each update, with its outcome or
        the transaction's error."""
        count = sum(map(len, batch.values()))
        try:
            async with unavailable_as_error(self._client, self._gate, f"update {count} profiles"):
                plans = await self._commit_with_retries(batch)
        except Exception as error:  # every caller must hear of it, whatever it is
            for updates in batch.values():
                for update in updates:
                    _settle(update, error)
            return
        for plan in plans:
            for update, outcome in zip(batch[plan.user], plan.outcomes, strict=True):
                _settle(update, outcome)

    async def _commit_with_retries(self, batch: Batch) -> list[_UserPlan]:
        """Run the batch again after a WATCH conflict, and after a failed read while nothing
        was written yet; a failed EXEC is not retried, as it may have been applied."""
        read_delays = list(READ_RETRY_DELAYS)
        for attempt in range(CONFLICT_ATTEMPTS):
            async with self._client.pipeline(transaction=True) as transaction:
                try:
                    plans = await self._watch_and_plan(transaction, batch)
                except RedisError as error:
                    if not (is_unavailable(error) and read_delays):
                        raise
                    await drop_idle_connections(self._client, error)
                    await asyncio.sleep(read_delays.pop(0))
                    continue
                with suppress(WatchError):
                    await self._write_all(transaction, plans)
                    return plans
            await asyncio.sleep(conflict_backoff(attempt))
        raise StoreUnavailableError(
            "profiles kept changing under concurrent updates; try again in a minute"
        )

    async def _watch_and_plan(self, transaction: AnyPipeline, batch: Batch) -> list[_UserPlan]:
        """WATCH the users' profiles, read them, and apply every update in memory."""
        keys = [self._keys.profile(user) for user in batch]
        now = self._clock()
        await transaction.watch(*keys)
        async with self._client.pipeline(transaction=False) as reads:
            for key in keys:
                reads.hgetall(key)
            stored = await reads.execute()
        return [
            self._plan(user, updates, bytes_hash(fields), now)
            for (user, updates), fields in zip(batch.items(), stored, strict=True)
        ]

    def _plan(
        self, user: UserRef, updates: list[_Update], stored: dict[bytes, bytes], now: float
    ) -> _UserPlan:
        """Apply one user's updates in order on top of the stored profile, in memory."""
        try:
            decoded = self._recent.decode(user, stored) if stored else None
        except (ValueError, TypeError) as error:
            return _UserPlan(user, stored, outcomes=[error] * len(updates))
        plan = _UserPlan(user, stored)
        if decoded is not None:
            profile, seen = decoded.profile, dict(decoded.seen)
            plan = _UserPlan(user, stored, profile, profile, decoded.vectors, seen)
        fresh_after = now - self._idempotency_ttl
        for update in updates:
            plan.outcomes.append(_apply(plan, update, now, fresh_after))
        if plan.fields is not None:
            plan.fields[ACTIVE_AT] = str(int(now)).encode()
            plan.seen = fresh_keys(plan.seen, fresh_after)
            if plan.seen:
                plan.fields[SEEN] = encode_seen(plan.seen)
        return plan

    async def _write_all(self, transaction: AnyPipeline, plans: list[_UserPlan]) -> None:
        """One MULTI/EXEC with every changed profile and the pick and co-pick counts they
        move (on a cluster, the counts right after)."""
        written = [(plan, entry) for plan in plans if (entry := plan.written()) is not None]
        if not written:
            return
        transaction.multi()  # type: ignore[no-untyped-call]
        counts: Counter[int] = Counter()
        pairs = CoPickMoves(self._community.window)
        for plan, entry in written:
            _write_difference(transaction, self._keys.profile(plan.user), plan.stored, entry.fields)
            before = plan.before.picked if plan.before else ()
            counts.update(pick_count_changes(before, entry.profile.picked))
            pairs.add(before, entry.profile.picked)
        async with commit_with_global_keys(self._client, transaction) as global_keys:
            move_pick_counts(global_keys, self._keys, counts)
            move_co_picks(global_keys, self._client, self._keys, pairs.changes(), self._community)
        for plan, entry in written:
            self._recent.remember(plan.user, entry)


def _apply(
    plan: _UserPlan, update: _Update, now: float, fresh_after: float
) -> StoredProfile | Exception:
    """One update on top of ``plan.after``, exactly as MemoryProfileStore would apply it.

    An idempotency key seen after ``fresh_after`` makes it a no-op.
    """
    key = update.idempotency_key
    if is_replay(plan.seen, key, fresh_after):
        return StoredProfile(plan.after, applied=False)
    try:
        new = update.change(plan.after)
        if new is None:
            return StoredProfile(plan.after, applied=False)
        plan.fields, plan.vectors = encode_profile(new, plan.vectors)
    except Exception as error:  # the caller gets it, as if ``change`` had run in its task
        return error
    plan.after = new
    if key is not None:
        remember_key(plan.seen, key, now)
    return StoredProfile(new, applied=True)


def _settle(update: _Update, outcome: StoredProfile | BaseException) -> None:
    if update.done.done():  # the caller stopped waiting
        return
    if isinstance(outcome, BaseException):
        update.done.set_exception(outcome)
    else:
        update.done.set_result(outcome)


def _write_difference(
    pipe: AnyPipeline, key: str, old: Mapping[bytes, bytes], new: Mapping[bytes, bytes]
) -> None:
    changed: dict[FieldT, EncodableT] = {
        field: value for field, value in new.items() if old.get(field) != value
    }
    gone = [field for field in old if field not in new]
    if changed:
        pipe.hset(key, mapping=changed)
    if gone:
        pipe.hdel(key, *gone)
