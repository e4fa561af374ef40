"""The profile store: profiles, subscriptions and pick counts in Redis."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from functools import partial
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import WatchError

from core.community import CoPickSettings, co_pick_changes
from core.errors import StoreFullError, StoreUnavailableError
from core.models import Notice, Subscription, TasteProfile, UserRef
from core.ports import ProfileChange, StoredProfile
from core.stores.profile_hash import PICKED, RecentProfiles, decode_profile, ids_of
from core.stores.redis.availability import (
    CONFLICT_ATTEMPTS,
    at_memory_limit,
    conflict_backoff,
    read_with_retries,
    start_gate,
    unavailable_as_error,
)
from core.stores.redis.client import PIPELINE_CHUNK, Client, as_bytes, bytes_hash, read_hashes
from core.stores.redis.counts import SEED_CHUNK, read_co_picks, read_pick_counts, seed_chunk
from core.stores.redis.global_keys import (
    commit_with_global_keys,
    move_co_picks,
    move_pick_counts,
    pick_count_changes,
)
from core.stores.redis.inactive import batches, inactive_among
from core.stores.redis.keys import RedisKeys
from core.stores.redis.ledger import RedisPushLedger
from core.stores.redis.lists import RedisListStore
from core.stores.redis.lobbies import RedisLobbyStore
from core.stores.redis.rate_limit import RedisRateLimit
from core.stores.redis.subscriptions import RedisSubscriptions
from core.stores.redis.writer import BatchWriter
from core.stores.retention import IDEMPOTENCY_TTL_SECONDS, REMEMBERED_WEEKS

T = TypeVar("T")
log = logging.getLogger(__name__)

CLUSTER_CONNECTIONS_PER_CALLER = 4


class RedisProfileStore:
    """Taste profiles in Redis, one hash per user, updated with WATCH/MULTI/EXEC."""

    def __init__(
        self,
        client: Client,
        *,
        prefix: str = "moviebot",
        idempotency_ttl: float = IDEMPOTENCY_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        community: CoPickSettings | None = None,
    ) -> None:
        self._client = client
        self._gate = start_gate(client)
        self._keys = RedisKeys(prefix)
        self._recent = RecentProfiles()
        self._community = community or CoPickSettings()
        self._subscriptions = RedisSubscriptions(client, self._gate, self._keys)
        self._writer = BatchWriter(
            client, self._gate, self._keys, self._recent, idempotency_ttl, clock, self._community
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
        community: CoPickSettings | None = None,
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
            community: how co-pick counts are kept.
        """
        if cluster:
            nodes = RedisCluster.from_url(
                url,
                max_connections=CLUSTER_CONNECTIONS_PER_CALLER * pool_size,
                socket_timeout=timeout,
                socket_connect_timeout=connect_timeout,
            )
            return cls(nodes, prefix=prefix, community=community)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=pool_size,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(Redis.from_pool(pool), prefix=prefix, community=community)

    @property
    def keys(self) -> RedisKeys:
        return self._keys

    async def close(self) -> None:
        """Stop the writer, failing updates still waiting, and close every connection."""
        await self._writer.close()
        await self._client.aclose()

    async def ping(self) -> None:
        """Check, once and without retrying, that Redis answers and has room for writes.

        Raises:
            StoreFullError: Redis is at its memory limit (``maxmemory``).
            StoreUnavailableError: Redis cannot be reached in time.
        """
        async with unavailable_as_error(self._client, self._gate, "reach Redis"):
            await self._client.ping()
            memory = await self._client.info("memory")
        if at_memory_limit(memory):
            raise StoreFullError("Redis is at its memory limit (maxmemory): writes fail")

    async def load(self, user: UserRef) -> TasteProfile | None:
        """The user's profile, or ``None``; retried with backoff while Redis is unavailable.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        fields = await self._read_hash(f"load the profile of {user.key}", self._keys.profile(user))
        return self._recent.decode(user, fields).profile if fields else None

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
                f"load {len(chunk)} profiles", partial(read_hashes, self._client, keys)
            )
            profiles += [
                _profile_or_none(user, fields) for user, fields in zip(chunk, hashes, strict=True)
            ]
        return profiles

    def push_ledger(self, remembered_weeks: int = REMEMBERED_WEEKS) -> RedisPushLedger:
        """The ledger of weekly pushes on the same server and prefix."""
        return RedisPushLedger(self._client, self._gate, self._keys, remembered_weeks)

    def shown_lists(self) -> RedisListStore:
        """The lists users were shown, on the same server and prefix (``forget`` drops a
        user's)."""
        return RedisListStore(self._client, self._gate, self._keys)

    def lobbies(self, clock: Callable[[], float] = time.time) -> RedisLobbyStore:
        """The movie nights on the same server and prefix."""
        return RedisLobbyStore(self._client, self._gate, self._keys.prefix, clock)

    def rate_limit(self, name: str, limit: int, window: float) -> RedisRateLimit:
        """At most ``limit`` requests ``name`` per user in ``window`` seconds, shared by
        every process on this server and prefix."""
        return RedisRateLimit(self._client, self._gate, self._keys, name, limit, window)

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
        async with unavailable_as_error(self._client, self._gate, f"forget {user.key}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                with suppress(WatchError):
                    return await self._try_forget(user)
                await asyncio.sleep(conflict_backoff(attempt))
        raise StoreUnavailableError(f"the profile of {user.key} kept changing; try again")

    async def forget_inactive(self, before: float) -> int:
        """Forget, one by one as :meth:`forget` does, every user whose profile last
        changed before ``before``; the users are read in batches, one round trip each."""
        forgotten = 0
        async for batch in batches(self.users()):
            for user in await inactive_among(self._client, self._gate, self._keys, batch, before):
                await self.forget(user)
                forgotten += 1
        return forgotten

    async def subscription(self, user: UserRef) -> Subscription | None:
        """When the user gets the weekly picks, or ``None`` (see :class:`RedisSubscriptions`)."""
        return await self._subscriptions.subscription(user)

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        """Subscribe the user at this slot, or unsubscribe them with ``None``."""
        await self._subscriptions.set_subscription(user, subscription)

    def subscribers(self) -> AsyncIterator[tuple[UserRef, Subscription]]:
        """Every subscribed user and slot."""
        return self._subscriptions.subscribers()

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        """How many users have each movie among their picks, in input order.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        read = partial(read_pick_counts, self._client, self._keys, movie_ids)
        return await self._read("read pick counts", read)

    async def co_picks(self, movie_ids: Sequence[int]) -> list[dict[int, int]]:
        """Each movie's co-pick neighbours with their counts, in one pipeline.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        read = partial(read_co_picks, self._client, self._keys, movie_ids)
        return await self._read("read co-pick counts", read) if movie_ids else []

    async def seed_community(self, source: str, histories: Sequence[Sequence[int]]) -> bool:
        """Add anonymous histories once per ``source``, ``SEED_CHUNK`` histories per
        transaction (see :func:`~core.stores.redis.counts.seed_chunk`): an interrupted
        seed, run again, adds only the chunks it missed.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        added = []
        for start in range(0, len(histories), SEED_CHUNK):
            chunk = f"{source}:{start // SEED_CHUNK}"
            async with unavailable_as_error(self._client, self._gate, "seed the community"):
                added.append(
                    await seed_chunk(
                        self._client,
                        self._keys,
                        self._community,
                        chunk,
                        histories[start : start + SEED_CHUNK],
                    )
                )
        return any(added)

    async def language(self, user: UserRef) -> str | None:
        """The user's stored language, or ``None``; read once, without retries, since every
        answer asks for it first.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        key = self._keys.language(user)
        async with unavailable_as_error(
            self._client, self._gate, f"read the language of {user.key}"
        ):
            value = await self._client.get(key)
        return as_bytes(value).decode() if value is not None else None

    async def set_language(self, user: UserRef, language: str | None) -> None:
        """Store the user's language (SET), or drop it with ``None`` (DEL).

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        key = self._keys.language(user)
        async with unavailable_as_error(
            self._client, self._gate, f"change the language of {user.key}"
        ):
            if language is None:
                await self._client.delete(key)
            else:
                await self._client.set(key, language)

    async def add_notice(self, user: UserRef, notice: Notice) -> None:
        """Keep ``notice`` for the user."""
        await self._subscriptions.add_notice(user, notice)

    async def take_notices(self, user: UserRef) -> frozenset[Notice]:
        """The user's kept notices, each given once."""
        return await self._subscriptions.take_notices(user)

    async def users(self) -> AsyncIterator[UserRef]:
        """Every user with a stored profile, walked with SCAN (a user may come twice).

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        keys = self._client.scan_iter(match=self._keys.profile_pattern, count=1000)
        while True:  # the gate is held for each step only, never while the caller works
            async with unavailable_as_error(self._client, self._gate, "list the stored users"):
                try:
                    key = await anext(keys)
                except StopAsyncIteration:
                    return
            user = self._keys.user_of(key)
            if user is not None:
                yield user

    async def remember_embedder(self, fingerprint: str, embedder: str) -> None:
        """Record which embedder made the vectors of the index ``fingerprint``."""
        async with unavailable_as_error(self._client, self._gate, "record the index's embedder"):
            await self._client.hset(self._keys.embedders, fingerprint, embedder)

    async def known_embedders(self) -> dict[str, str]:
        """Every recorded index fingerprint with the embedder that made its vectors."""
        recorded = await self._read_hash("read the recorded embedders", self._keys.embedders)
        return {key.decode(): name.decode() for key, name in recorded.items()}

    async def _try_forget(self, user: UserRef) -> None:
        profile_key, subscription_key = self._keys.profile(user), self._keys.subscription(user)
        async with self._client.pipeline(transaction=True) as transaction:
            await transaction.watch(profile_key)
            picked = await transaction.hget(profile_key, PICKED)
            transaction.multi()  # type: ignore[no-untyped-call]
            transaction.delete(
                profile_key,
                subscription_key,
                self._keys.pushes(user),
                self._keys.notices(user),
                self._keys.lists(user),
                self._keys.language(user),
            )
            picks = ids_of(None if picked is None else as_bytes(picked))
            pairs = co_pick_changes(picks, (), self._community.window)
            async with commit_with_global_keys(self._client, transaction) as global_keys:
                global_keys.srem(self._keys.subscribers, subscription_key)
                move_pick_counts(global_keys, self._keys, pick_count_changes(picks, ()))
                move_co_picks(global_keys, self._client, self._keys, pairs, self._community)

    async def _read(self, action: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``, retried after each of ``READ_RETRY_DELAYS`` while Redis is unavailable."""
        return await read_with_retries(self._client, self._gate, action, read)

    async def _read_hash(self, action: str, key: str) -> dict[bytes, bytes]:
        """HGETALL of ``key``, retried as :meth:`_read` retries."""
        return bytes_hash(await self._read(action, lambda: self._client.hgetall(key)))


def _profile_or_none(user: UserRef, fields: Mapping[bytes, bytes]) -> TasteProfile | None:
    """The profile of a hash read in bulk (not kept in ``RecentProfiles``), or ``None``."""
    if not fields:
        return None
    try:
        return decode_profile(fields, user.key).profile
    except (ValueError, TypeError) as error:
        log.warning("skipped the unreadable profile of %s: %s", user.key, error)
        return None
