"""A ProfileStore in Redis: every pick kept, atomically, durably, at thousands per second.

Key design (``moviebot`` is the configurable prefix)::

    moviebot:{telegram:123}:profile   hash: the user's TasteProfile and idempotency keys
    moviebot:pick_counts              hash: movie id -> users who have it among their picks
    moviebot:embedders                hash: index fingerprint -> embedder name
    moviebot:{telegram:123}:subscription  hash: weekday, hour, timezone of the weekly picks
    moviebot:subscribers              set: the subscription keys of subscribed users
    moviebot:{telegram:123}:pushes    hash: ISO week -> movie ids pushed ("" while claimed)
    moviebot:push:leader              string: the holder of the weekly push's lease

One key for the profile keeps each user's part of an update a single-key write;
``forget`` is one MULTI that deletes all three of a user's keys. The ``{platform:user_id}``
hash tag (each part percent-encoded, so ``{``, ``}`` and ``:`` in an id cannot break
it) puts all of a user's keys in one Redis Cluster slot. On one server (with or without
replicas) the update transaction also moves the global ``pick_counts``, and subscribing
moves ``subscribers``. On a cluster (``cluster=True``) a transaction can only touch one
slot: each user's update is a transaction of its own, and the global keys are changed
right after it, so a crash between the two leaves a pick count off by one (a
popularity prior, not a pick) or a subscriber set that a later subscribe repairs. The
fields of the profile hash, and how vectors are encoded, checked and rejected, are in
:mod:`core.stores.profile_hash`.

Why the fingerprint sits in the values and not in the key names: the picks are the
user's taste and do not depend on the model, so they must survive an index rebuilt with
another model; only the vectors depend on it. Every vector carries the fingerprint of
its index; a profile whose fingerprint differs from the running index is never searched
with (the Recommender rebuilds its vector from the picks), and ``moviebot
reindex-profiles`` moves every profile to the new index, keeping vectors when the
embedder recorded in ``embedders`` for the old fingerprint is the current one.

Idempotency keys are kept for ``IDEMPOTENCY_TTL_SECONDS`` (7 days): a chat platform
redelivers an update or a client retries within minutes, so a week is ample. An older
key no longer counts and is dropped when the user's profile is next written, keeping
at most the newest ``MAX_SEEN_KEYS``. They live in the profile hash, not in keys of their
own, so reading them costs no extra command and ``forget`` deletes them with the rest.

Updates are committed in batches, because a command costs far more Python time in
redis-py's asyncio client than the vector maths of a pick. One writer task takes every
waiting update (up to ``MAX_BATCH``), WATCHes their users' profiles, reads them in one
pipeline, runs each ``change`` in Python (one user's updates in the order they came),
then writes in one MULTI/EXEC the changed fields of every profile and the pick counts
they move (one EVAL of a HINCRBY loop for the whole batch: bookkeeping, no vector
maths). If another client wrote one of those profiles meanwhile, EXEC fails and the
whole batch runs again from a fresh read.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast
from urllib.parse import quote, unquote

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
    WatchError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT, FieldT

from core.errors import StoreUnavailableError
from core.models import Delivery, PushHistory, Subscription, TasteProfile, UserRef
from core.ports import ProfileChange, StoredProfile
from core.stores.profile_hash import (
    PICKED,
    SEEN,
    DecodedProfile,
    RecentProfiles,
    SlottedVectors,
    decode_profile,
    encode_profile,
    encode_seen,
    ids_of,
)
from core.weeks import weeks_apart

T = TypeVar("T")
Client = Redis | RedisCluster
AnyPipeline = Pipeline | ClusterPipeline
log = logging.getLogger(__name__)

IDEMPOTENCY_TTL_SECONDS = 7 * 86_400
MAX_SEEN_KEYS = 1_000
MAX_BATCH = 256
CONFLICT_ATTEMPTS = 50
CONFLICT_BACKOFF_SECONDS = 0.001
CONFLICT_BACKOFF_CAP_SECONDS = 0.05
READ_RETRY_DELAYS = (0.1, 0.3)
PIPELINE_CHUNK = 1_000
CLUSTER_CONNECTIONS_PER_CALLER = 4
CLUSTER_TRANSACTIONS = 32
REMEMBERED_WEEKS = 8

_UNAVAILABLE_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    TryAgainError,
    ClusterDownError,
)
_UNAVAILABLE_REPLIES = ("MISCONF", "NOREPLICAS")
_LEAD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
"""
_RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
"""
_HINCRBY_EACH = """
for i = 1, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
"""


class RedisProfileStore:
    """Taste profiles in Redis, one hash per user, updated with WATCH/MULTI/EXEC."""

    def __init__(
        self,
        client: Client,
        *,
        prefix: str = "moviebot",
        idempotency_ttl: float = IDEMPOTENCY_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._cluster = isinstance(client, RedisCluster)
        self._gate = _gate_of(client)
        self._keys = RedisKeys(prefix)
        self._recent = RecentProfiles()
        self._writer = _BatchWriter(
            client, self._gate, self._keys, self._recent, idempotency_ttl, clock
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 50,
        timeout: float = 2.0,
        connect_timeout: float = 2.0,
        prefix: str = "moviebot",
        cluster: bool = False,
    ) -> RedisProfileStore:
        """A store on the server of a ``redis://`` or ``rediss://`` URL.

        Args:
            url: the server, with the password in the URL if it needs one.
            pool_size: at most this many connections; more callers wait for one. A
                cluster client cannot wait for a free connection, so it may open
                ``CLUSTER_CONNECTIONS_PER_CALLER`` times as many per node.
            timeout: seconds every command, and a wait for a free connection, may take.
            connect_timeout: seconds to open a connection.
            prefix: the first part of every key, so that stores can share a server.
            cluster: the URL names one node of a Redis Cluster.
        """
        if cluster:
            nodes = RedisCluster.from_url(
                url,
                max_connections=CLUSTER_CONNECTIONS_PER_CALLER * pool_size,
                socket_timeout=timeout,
                socket_connect_timeout=connect_timeout,
            )
            return cls(nodes, prefix=prefix)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(Redis.from_pool(pool), prefix=prefix)

    @property
    def keys(self) -> RedisKeys:
        return self._keys

    async def close(self) -> None:
        """Stop the writer, failing updates still waiting, and close every connection."""
        await self._writer.close()
        await self._client.aclose()

    async def ping(self) -> None:
        """Check, once and without retrying, that Redis answers.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        async with _unavailable_as_error(self._client, self._gate, "reach Redis"):
            await self._client.ping()

    async def load(self, user: UserRef) -> TasteProfile | None:
        """The user's profile, or ``None``; retried with backoff while Redis is unavailable.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        fields = await self._read(
            f"load the profile of {user.key}",
            lambda: self._client.hgetall(self._keys.profile(user)),
        )
        return self._recent.decode(user, _bytes_hash(fields)).profile if fields else None

    async def load_many(self, users: Sequence[UserRef]) -> list[TasteProfile | None]:
        """The users' profiles in one pipeline per ``PIPELINE_CHUNK`` users; a hash that
        is not a profile is logged and comes back as ``None``.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        profiles: list[TasteProfile | None] = []
        for start in range(0, len(users), PIPELINE_CHUNK):
            chunk = users[start : start + PIPELINE_CHUNK]
            keys = [self._keys.profile(user) for user in chunk]
            hashes = await self._read(
                f"load {len(chunk)} profiles", partial(_hashes, self._client, keys)
            )
            profiles += [
                _profile_or_none(user, fields) for user, fields in zip(chunk, hashes, strict=True)
            ]
        return profiles

    def push_ledger(self, remembered_weeks: int = REMEMBERED_WEEKS) -> RedisPushLedger:
        """The ledger of weekly pushes on the same server and prefix."""
        return RedisPushLedger(self._client, self._gate, self._keys, remembered_weeks)

    async def update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None = None
    ) -> StoredProfile:
        """Replace the user's profile by ``change(current)`` in one transaction.

        ``change`` runs again whenever another client changed a profile of the batch
        first, or reading the profiles failed and was retried. A failed EXEC is not
        retried: it may have been applied.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time, or the batch kept
                meeting concurrent changes ``CONFLICT_ATTEMPTS`` times in a row.
        """
        return await self._writer.submit(user, change, idempotency_key)

    async def forget(self, user: UserRef) -> None:
        """Delete the user's profile and their share of the pick counts, in one step.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        async with _unavailable_as_error(self._client, self._gate, f"forget {user.key}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                with suppress(WatchError):
                    return await self._try_forget(user)
                await asyncio.sleep(_conflict_backoff(attempt))
        raise StoreUnavailableError(f"the profile of {user.key} kept changing; try again")

    async def subscription(self, user: UserRef) -> Subscription | None:
        """When the user gets the weekly picks, or ``None``.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        fields = await self._read(
            f"read the subscription of {user.key}",
            lambda: self._client.hgetall(self._keys.subscription(user)),
        )
        return _subscription_of(_bytes_hash(fields)) if fields else None

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        """Subscribe the user at this slot, or unsubscribe them with ``None``, in one step.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        key = self._keys.subscription(user)
        async with _unavailable_as_error(
            self._client, self._gate, f"change the subscription of {user.key}"
        ):
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if subscription is not None:
                    pipe.hset(key, mapping=_subscription_fields(subscription))
                if not self._cluster:
                    _list_subscriber(pipe, self._keys, key, subscription is not None)
                await pipe.execute()
            if self._cluster:
                async with self._client.pipeline(transaction=False) as pipe:
                    _list_subscriber(pipe, self._keys, key, subscription is not None)
                    await pipe.execute()

    async def subscribers(self) -> AsyncIterator[tuple[UserRef, Subscription]]:
        """Every subscribed user and slot, walked with SSCAN, ``PIPELINE_CHUNK`` at a time.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        cursor = None
        while cursor != 0:
            scan = partial(
                self._client.sscan, self._keys.subscribers, cursor or 0, count=PIPELINE_CHUNK
            )
            cursor, keys = await self._read("list the subscribers", scan)
            slots = await self._read("read subscriptions", partial(_hashes, self._client, keys))
            for key, fields in zip(keys, slots, strict=True):
                user = self._keys.user_of(key, "subscription")
                subscription = _subscription_of(fields) if fields else None
                if user is not None and subscription is not None:
                    yield user, subscription

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        """How many users have each movie among their picks, in input order.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        if not movie_ids:
            return ()
        counts = await self._read(
            "read pick counts",
            lambda: self._client.hmget(self._keys.pick_counts, [str(i) for i in movie_ids]),
        )
        return tuple(max(int(count), 0) if count is not None else 0 for count in counts)

    async def users(self) -> AsyncIterator[UserRef]:
        """Every user with a stored profile, walked with SCAN (a user may come twice).

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        keys = self._client.scan_iter(match=self._keys.profile_pattern, count=1000)
        while True:  # the gate is held for each step only, never while the caller works
            async with _unavailable_as_error(self._client, self._gate, "list the stored users"):
                try:
                    key = await anext(keys)
                except StopAsyncIteration:
                    return
            user = self._keys.user_of(key)
            if user is not None:
                yield user

    async def remember_embedder(self, fingerprint: str, embedder: str) -> None:
        """Record which embedder made the vectors of the index ``fingerprint``."""
        async with _unavailable_as_error(self._client, self._gate, "record the index's embedder"):
            await self._client.hset(self._keys.embedders, fingerprint, embedder)

    async def known_embedders(self) -> dict[str, str]:
        """Every recorded index fingerprint with the embedder that made its vectors."""
        recorded = await self._read(
            "read the recorded embedders", lambda: self._client.hgetall(self._keys.embedders)
        )
        return {key.decode(): name.decode() for key, name in _bytes_hash(recorded).items()}

    async def _try_forget(self, user: UserRef) -> None:
        profile_key, subscription_key = self._keys.profile(user), self._keys.subscription(user)
        async with self._client.pipeline(transaction=True) as pipe:
            await pipe.watch(profile_key)
            picked = await pipe.hget(profile_key, PICKED)
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(profile_key, subscription_key, self._keys.pushes(user))
            changes = _pick_count_changes(ids_of(None if picked is None else _bytes(picked)), ())
            if not self._cluster:
                _list_subscriber(pipe, self._keys, subscription_key, False)
                _move_pick_counts(pipe, self._keys, changes)
            await pipe.execute()
        if self._cluster:
            async with self._client.pipeline(transaction=False) as pipe:
                _list_subscriber(pipe, self._keys, subscription_key, False)
                _move_pick_counts(pipe, self._keys, changes)
                await pipe.execute()

    async def _read(self, action: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``, retried after each of ``READ_RETRY_DELAYS`` while Redis is unavailable."""
        async with _unavailable_as_error(self._client, self._gate, action):
            for delay in READ_RETRY_DELAYS:
                try:
                    return await read()
                except RedisError as error:
                    if not _is_unavailable(error):
                        raise
                    await _drop_idle_connections(self._client, error)
                await asyncio.sleep(delay)
            return await read()


class RedisKeys:
    """The names of the store's keys; see the module docstring."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.pick_counts = f"{prefix}:pick_counts"
        self.embedders = f"{prefix}:embedders"
        self.subscribers = f"{prefix}:subscribers"
        self.push_leader = f"{prefix}:push:leader"
        self.profile_pattern = f"{_glob_escaped(prefix)}:{{*}}:profile"

    def profile(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:profile"

    def subscription(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:subscription"

    def pushes(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:pushes"

    def user_of(self, key_name: bytes | str, kind: str = "profile") -> UserRef | None:
        """The user a key of this ``kind`` (profile, subscription) belongs to, or
        ``None`` for a key of another shape."""
        key = key_name.decode() if isinstance(key_name, bytes) else key_name
        head, tail = f"{self.prefix}:{{", f"}}:{kind}"
        tag = key[len(head) : -len(tail)] if key.startswith(head) and key.endswith(tail) else ""
        platform, colon, user_id = tag.partition(":")
        return UserRef(unquote(platform), unquote(user_id)) if colon else None

    def _user_part(self, user: UserRef) -> str:
        return f"{self.prefix}:{{{quote(user.platform, safe='')}:{quote(user.user_id, safe='')}}}"


class RedisPushLedger:
    """Weekly push claims per user (a hash of ISO weeks) and the lease of the pusher."""

    def __init__(
        self,
        client: Client,
        gate: AbstractAsyncContextManager[Any],
        keys: RedisKeys,
        remembered_weeks: int,
    ) -> None:
        self._client = client
        self._gate = gate
        self._keys = keys
        self._remembered_weeks = remembered_weeks

    async def claim(self, user: UserRef, week: str) -> bool:
        async with _unavailable_as_error(self._client, self._gate, f"claim the push of {user.key}"):
            return bool(await self._client.hsetnx(self._keys.pushes(user), week, ""))

    async def settle(
        self, user: UserRef, week: str, delivery: Delivery, movie_ids: Sequence[int]
    ) -> None:
        key = self._keys.pushes(user)
        async with _unavailable_as_error(
            self._client, self._gate, f"settle the push of {user.key}"
        ):
            if delivery is Delivery.FAILED:
                await self._client.hdel(key, week)
                return
            weeks = [_bytes(week).decode() for week in await self._client.hkeys(key)]
            old = [w for w in weeks if weeks_apart(w, week) >= self._remembered_weeks]
            async with self._client.pipeline(transaction=True) as pipe:
                if delivery is Delivery.SENT:
                    pipe.hset(key, week, ",".join(map(str, movie_ids)))
                if old:
                    pipe.hdel(key, *old)
                pipe.expire(key, (self._remembered_weeks + 1) * 7 * 86_400)
                await pipe.execute()

    async def history(self, users: Sequence[UserRef]) -> list[PushHistory]:
        histories: list[PushHistory] = []
        async with _unavailable_as_error(
            self._client, self._gate, f"read {len(users)} push histories"
        ):
            for start in range(0, len(users), PIPELINE_CHUNK):
                keys = [self._keys.pushes(user) for user in users[start : start + PIPELINE_CHUNK]]
                histories += [_push_history(fields) for fields in await _hashes(self._client, keys)]
        return histories

    async def lead(self, holder: str, seconds: float) -> bool:
        async with _unavailable_as_error(self._client, self._gate, "take the push lease"):
            lease = self._keys.push_leader
            return bool(await self._client.eval(_LEAD, 1, lease, holder, int(seconds * 1000)))

    async def resign(self, holder: str) -> None:
        async with _unavailable_as_error(self._client, self._gate, "give up the push lease"):
            await self._client.eval(_RESIGN, 1, self._keys.push_leader, holder)


@dataclass(slots=True)
class _Update:
    """One waiting call of ``update``."""

    user: UserRef
    change: ProfileChange
    idempotency_key: str | None
    done: asyncio.Future[StoredProfile]


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


class _BatchWriter:
    """Commits waiting updates in batches, one batch at a time (see the module docstring)."""

    def __init__(
        self,
        client: Client,
        gate: AbstractAsyncContextManager[Any],
        keys: RedisKeys,
        recent: RecentProfiles,
        idempotency_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
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
        loop = asyncio.get_running_loop()
        update = _Update(user, change, idempotency_key, loop.create_future())
        self._waiting.append(update)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return await update.done

    async def close(self) -> None:
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
        a transaction of their own (see the module docstring)."""
        if not self._cluster:
            await self._commit_group(updates)
            return
        by_user: dict[UserRef, list[_Update]] = {}
        for update in updates:
            by_user.setdefault(update.user, []).append(update)
        await asyncio.gather(*(self._commit_alongside(group) for group in by_user.values()))

    async def _commit_alongside(self, updates: list[_Update]) -> None:
        """One user's cluster transaction, at most ``CLUSTER_TRANSACTIONS`` at once: each
        holds two connections, and a cluster client fails when they run out."""
        async with self._transactions:
            await self._commit_group(updates)

    async def _commit_group(self, updates: list[_Update]) -> None:
        """Commit updates in one transaction and settle each, with its outcome or the
        transaction's error."""
        try:
            async with _unavailable_as_error(
                self._client, self._gate, f"update {len(updates)} profiles"
            ):
                plans = await self._commit_with_retries(updates)
        except Exception as error:  # every caller must hear of it, whatever it is
            for update in updates:
                _settle(update, error)
            return
        outcomes = {plan.user: iter(plan.outcomes) for plan in plans}
        for update in updates:
            _settle(update, next(outcomes[update.user]))

    async def _commit_with_retries(self, updates: list[_Update]) -> list[_UserPlan]:
        """Run the batch again after a WATCH conflict, and after a failed read while nothing
        was written yet; a failed EXEC is not retried, as it may have been applied."""
        read_delays = list(READ_RETRY_DELAYS)
        for attempt in range(CONFLICT_ATTEMPTS):
            async with self._client.pipeline(transaction=True) as transaction:
                try:
                    plans = await self._watch_and_plan(transaction, updates)
                except RedisError as error:
                    if not (_is_unavailable(error) and read_delays):
                        raise
                    await _drop_idle_connections(self._client, error)
                    await asyncio.sleep(read_delays.pop(0))
                    continue
                with suppress(WatchError):
                    await self._write_all(transaction, plans)
                    return plans
            await asyncio.sleep(_conflict_backoff(attempt))
        raise StoreUnavailableError(
            "profiles kept changing under concurrent updates; try again in a minute"
        )

    async def _watch_and_plan(
        self, transaction: AnyPipeline, updates: list[_Update]
    ) -> list[_UserPlan]:
        """WATCH the users' profiles, read them, and apply every update in memory."""
        by_user: dict[UserRef, list[_Update]] = {}
        for update in updates:
            by_user.setdefault(update.user, []).append(update)
        keys = [self._keys.profile(user) for user in by_user]
        now = self._clock()
        await transaction.watch(*keys)
        async with self._client.pipeline(transaction=False) as reads:
            for key in keys:
                reads.hgetall(key)
            stored = await reads.execute()
        return [
            self._plan(user, user_updates, _bytes_hash(fields), now)
            for (user, user_updates), fields in zip(by_user.items(), stored, strict=True)
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
            plan.seen = _kept_keys(plan.seen, fresh_after)
            if plan.seen:
                plan.fields[SEEN] = encode_seen(plan.seen)
        return plan

    async def _write_all(self, transaction: AnyPipeline, plans: list[_UserPlan]) -> None:
        """One MULTI/EXEC with every changed profile and the pick counts they move (on a
        cluster, the pick counts right after)."""
        written = [(plan, entry) for plan in plans if (entry := plan.written()) is not None]
        if not written:
            return
        transaction.multi()  # type: ignore[no-untyped-call]
        counts: Counter[int] = Counter()
        for plan, entry in written:
            _write_difference(transaction, self._keys.profile(plan.user), plan.stored, entry.fields)
            before = plan.before.picked if plan.before else ()
            counts.update(_pick_count_changes(before, entry.profile.picked))
        if not self._cluster:
            _move_pick_counts(transaction, self._keys, counts)
        await transaction.execute()
        for plan, entry in written:
            self._recent.remember(plan.user, entry)
        if self._cluster:
            async with self._client.pipeline(transaction=False) as pipe:
                _move_pick_counts(pipe, self._keys, counts)
                await pipe.execute()


def _apply(
    plan: _UserPlan, update: _Update, now: float, fresh_after: float
) -> StoredProfile | Exception:
    """One update on top of ``plan.after``, exactly as MemoryProfileStore would apply it.

    An idempotency key seen after ``fresh_after`` makes it a no-op.
    """
    key = update.idempotency_key
    seen_at = plan.seen.get(key) if key is not None else None
    if seen_at is not None and seen_at > fresh_after:
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
        plan.seen.pop(key, None)
        plan.seen[key] = int(now)
    return StoredProfile(new, applied=True)


def _kept_keys(seen: dict[str, int], fresh_after: float) -> dict[str, int]:
    """The keys seen after ``fresh_after``, at most the newest ``MAX_SEEN_KEYS``."""
    kept = {key: at for key, at in seen.items() if at > fresh_after}
    return dict(list(kept.items())[-MAX_SEEN_KEYS:]) if len(kept) > MAX_SEEN_KEYS else kept


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


def _pick_count_changes(before: Sequence[int], after: Sequence[int]) -> dict[int, int]:
    """+1 for each movie that joined the picks, -1 for each that left them."""
    old, new = set(before), set(after)
    return {**dict.fromkeys(new - old, 1), **dict.fromkeys(old - new, -1)}


def _list_subscriber(pipe: AnyPipeline, keys: RedisKeys, key: str, subscribed: bool) -> None:
    """Add the subscription key to the set of subscribers, or take it out."""
    if subscribed:
        pipe.sadd(keys.subscribers, key)
    else:
        pipe.srem(keys.subscribers, key)


def _move_pick_counts(pipe: AnyPipeline, keys: RedisKeys, changes: Mapping[int, int]) -> None:
    """One command for the whole batch; a HINCRBY each would cost a command per pick."""
    arguments = [str(value) for item in changes.items() if item[1] for value in item]
    if arguments:
        pipe.eval(_HINCRBY_EACH, 1, keys.pick_counts, *arguments)


@asynccontextmanager
async def _unavailable_as_error(
    client: Client, gate: AbstractAsyncContextManager[Any], action: str
) -> AsyncIterator[None]:
    """Within ``gate``, turn Redis errors that mean "cannot serve now" into
    :class:`StoreUnavailableError`."""
    try:
        async with gate:
            yield
    except RedisError as error:
        if not _is_unavailable(error):
            raise
        await _drop_idle_connections(client, error)
        raise StoreUnavailableError(
            f"could not {action}: Redis at {_address(client)} is unreachable or too slow "
            f"({error}); try again in a minute"
        ) from error


async def _drop_idle_connections(client: Client, error: RedisError) -> None:
    """After a lost connection, close the idle ones too: after a restart of Redis they are
    all dead, and the next caller would get one of them. (A cluster client finds its
    nodes again by itself.)"""
    if isinstance(client, Redis) and isinstance(error, RedisConnectionError | RedisTimeoutError):
        await client.connection_pool.disconnect(inuse_connections=False)


def _is_unavailable(error: RedisError) -> bool:
    """Whether the error says Redis cannot serve now, rather than that the request is wrong."""
    if isinstance(error, _UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, ResponseError) and str(error).startswith(_UNAVAILABLE_REPLIES)


def _gate_of(client: Client) -> AbstractAsyncContextManager[Any]:
    """What every call of the store passes through: nothing on one server; on a cluster,
    a first call that initializes the client alone (see :class:`_ClusterStart`)."""
    return _ClusterStart(client) if isinstance(client, RedisCluster) else nullcontext()


class _ClusterStart:
    """Initializes a cluster client once, before its first call. redis-py's asyncio
    cluster client (8.1) breaks connections (``'NoneType' object has no attribute
    'writelines'``) when several first calls initialize it at once: 16 concurrent
    first calls failed 3 times in 4 here, and never once it was initialized."""

    def __init__(self, client: RedisCluster) -> None:
        self._client = client
        self._lock = asyncio.Lock()
        self._started = False

    async def __aenter__(self) -> None:
        if not self._started:
            async with self._lock:
                if not self._started:
                    await self._client.initialize()
                    self._started = True

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def _conflict_backoff(attempt: int) -> float:
    cap = min(CONFLICT_BACKOFF_CAP_SECONDS, CONFLICT_BACKOFF_SECONDS * 2**attempt)
    return random.uniform(0, cap)


def _bytes_hash(reply: Mapping[bytes | str, bytes | str]) -> dict[bytes, bytes]:
    """A hash as the store's client returns it: it never decodes, so everything is bytes."""
    return cast(dict[bytes, bytes], reply)


def _bytes(reply: bytes | str) -> bytes:
    return cast(bytes, reply)


def _address(client: Client) -> str:
    if isinstance(client, RedisCluster):
        return "the cluster"
    options: dict[str, Any] = client.connection_pool.connection_kwargs
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def _glob_escaped(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def _subscription_fields(subscription: Subscription) -> dict[FieldT, EncodableT]:
    return {
        "weekday": str(subscription.weekday),
        "hour": str(subscription.hour),
        "timezone": subscription.timezone,
    }


def _subscription_of(fields: Mapping[bytes, bytes]) -> Subscription | None:
    """The stored subscription; a malformed one is logged and treated as none."""
    try:
        return Subscription(
            int(fields[b"weekday"]), int(fields[b"hour"]), fields[b"timezone"].decode()
        )
    except (KeyError, ValueError) as error:
        log.warning("ignored a malformed subscription: %s", error)
        return None


async def _hashes(client: Client, keys: Sequence[str | bytes]) -> list[dict[bytes, bytes]]:
    """HGETALL of every key, in one round trip."""
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        return [_bytes_hash(fields) for fields in await pipe.execute()]


def _push_history(fields: Mapping[bytes, bytes]) -> PushHistory:
    weeks = frozenset(week.decode() for week in fields)
    return PushHistory(weeks, frozenset(i for ids in fields.values() for i in ids_of(ids)))


def _profile_or_none(user: UserRef, fields: Mapping[bytes, bytes]) -> TasteProfile | None:
    """The profile of a hash read in bulk (not kept in ``RecentProfiles``), or ``None``."""
    if not fields:
        return None
    try:
        return decode_profile(fields, user.key).profile
    except (ValueError, TypeError) as error:
        log.warning("skipped the unreadable profile of %s: %s", user.key, error)
        return None
