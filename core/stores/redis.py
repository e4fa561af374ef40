"""A ProfileStore in Redis: every pick kept, atomically, durably, at thousands per second.

Key design (``moviebot`` is the configurable prefix)::

    moviebot:{telegram:123}:profile   hash: the user's TasteProfile
    moviebot:{telegram:123}:seen      sorted set: idempotency keys, scored by when seen
    moviebot:pick_counts              hash: movie id -> users who have it among their picks
    moviebot:embedders                hash: index fingerprint -> embedder name

The ``{platform:user_id}`` hash tag (each part percent-encoded, so ``{``, ``}`` and
``:`` in an id cannot break it) puts every key of one user in one Redis Cluster slot.
The update transaction also moves the global ``pick_counts``, which is fine on one
server with replicas; on a cluster the counts would have to leave the transaction.

The profile hash holds these fields:

- ``fingerprint``: the index the vectors belong to (model + dim + catalog ids).
- ``picked``, ``disliked``: movie ids in decimal, comma-separated, oldest first; the
  number of picks is the length of ``picked``.
- ``last_pick_at``: Unix time of the last pick.
- ``vector``: the id of the taste vector among the ``v:<id>`` fields.
- ``undo``: JSON list of ``[action, movie_id, previous_vector_id, previous_last_pick_at,
  was_disliked]``, oldest first.
- ``v:<id>``: one vector, ``<id>`` being a 64-bit BLAKE2b of its bytes. Naming vectors
  by content means a pick writes one new vector and deletes the one that left the undo
  window, instead of rewriting every undo step.

A vector is ``b"f4"``, the fingerprint's length (u16), the fingerprint, the dimension
(u32), then float32 little-endian values. On read a vector of a length other than its
dimension, with NaN or Inf, or tagged with another fingerprint than its profile's is
rejected and logged, never used: a bad taste vector comes back as a profile of no index
(fingerprint ``""``), so the Recommender rebuilds it from the picks; a bad undo vector
drops that step and the older ones.

Why the fingerprint sits in the values and not in the key names: the picks are the
user's taste and do not depend on the model, so they must survive an index rebuilt with
another model; only the vectors depend on it. A profile whose fingerprint differs from
the running index is never searched with (the Recommender rebuilds its vector from the
picks), and ``moviebot reindex-profiles`` moves every profile to the new index.

Idempotency keys are kept for ``IDEMPOTENCY_TTL_SECONDS`` (7 days): a chat platform
redelivers an update or a client retries within minutes, so a week is ample; an older
key is trimmed on the user's next update and the whole set expires with the user's
last keyed update.

An update WATCHes the user's keys, reads the profile, runs ``change`` in Python and
writes the difference, the pick counts and the idempotency key in one MULTI/EXEC; a
concurrent update of the same user makes EXEC fail and the update runs again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar, cast
from urllib.parse import quote, unquote

import numpy as np
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
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
from core.models import TasteProfile, UndoStep, UserRef, Vectors
from core.ports import ProfileChange, StoredProfile

log = logging.getLogger(__name__)

T = TypeVar("T")

IDEMPOTENCY_TTL_SECONDS = 7 * 86_400
CONFLICT_ATTEMPTS = 50
READ_RETRY_DELAYS = (0.1, 0.3)
CONFLICT_BACKOFF_SECONDS = 0.001
CONFLICT_BACKOFF_CAP_SECONDS = 0.05
UNUSABLE_FINGERPRINT = ""
"""The fingerprint of a profile whose stored vector was rejected: it fits no index."""

_UNAVAILABLE_ERRORS = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    TryAgainError,
    ClusterDownError,
)
_UNAVAILABLE_REPLIES = ("MISCONF", "NOREPLICAS")
_VECTOR_MAGIC = b"f4"
_FINGERPRINT_LENGTH = struct.Struct("<H")
_DIM = struct.Struct("<I")
_FINGERPRINT = b"fingerprint"
_PICKED = b"picked"
_DISLIKED = b"disliked"
_LAST_PICK_AT = b"last_pick_at"
_VECTOR = b"vector"
_UNDO = b"undo"
_VECTOR_FIELD_PREFIX = b"v:"


class RejectedVectorError(ValueError):
    """A stored vector is malformed, not finite, or from another index."""


class RedisProfileStore:
    """Taste profiles in Redis, one hash per user, updated with WATCH/MULTI/EXEC."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "moviebot",
        idempotency_ttl: float = IDEMPOTENCY_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._keys = RedisKeys(prefix)
        self._idempotency_ttl = idempotency_ttl
        self._clock = clock
        self._where = _address(client)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 50,
        timeout: float = 2.0,
        connect_timeout: float = 2.0,
        prefix: str = "moviebot",
    ) -> RedisProfileStore:
        """A store on the server of a ``redis://`` or ``rediss://`` URL.

        Args:
            url: the server, with the password in the URL if it needs one.
            pool_size: at most this many connections; more callers wait for one.
            timeout: seconds every command, and a wait for a free connection, may take.
            connect_timeout: seconds to open a connection.
            prefix: the first part of every key, so that stores can share a server.
        """
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
        """Close every connection of the pool."""
        await self._client.aclose()

    async def load(self, user: UserRef) -> TasteProfile | None:
        """The user's profile, or ``None``; retried with backoff while Redis is unavailable.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        fields = await self._read(
            f"load the profile of {user.key}",
            lambda: self._client.hgetall(self._keys.profile(user)),
        )
        return decode_profile(_bytes_hash(fields), user.key) if fields else None

    async def update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None = None
    ) -> StoredProfile:
        """Replace the user's profile by ``change(current)`` in one transaction.

        ``change`` runs again whenever another update of the same user commits first.
        A connection error is not retried: the transaction may have been applied.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time, or the user's profile
                kept changing under ``CONFLICT_ATTEMPTS`` attempts in a row.
        """
        with self._unavailable_as_error(f"update the profile of {user.key}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                with suppress(WatchError):
                    return await self._try_update(user, change, idempotency_key)
                await asyncio.sleep(_conflict_backoff(attempt))
        raise StoreUnavailableError(
            f"the profile of {user.key} changed {CONFLICT_ATTEMPTS} times while updating it; "
            "try again in a minute"
        )

    async def forget(self, user: UserRef) -> None:
        """Delete every key of the user and their share of the pick counts, in one step.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        with self._unavailable_as_error(f"forget {user.key}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                with suppress(WatchError):
                    return await self._try_forget(user)
                await asyncio.sleep(_conflict_backoff(attempt))
        raise StoreUnavailableError(f"the profile of {user.key} kept changing; try again")

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
        with self._unavailable_as_error("list the stored users"):
            async for key in self._client.scan_iter(match=self._keys.profile_pattern, count=1000):
                user = self._keys.user_of(key)
                if user is not None:
                    yield user

    async def remember_embedder(self, fingerprint: str, embedder: str) -> None:
        """Record which embedder made the vectors of the index ``fingerprint``."""
        with self._unavailable_as_error("record the index's embedder"):
            await self._client.hset(self._keys.embedders, fingerprint, embedder)

    async def embedder_of(self, fingerprint: str) -> str | None:
        """The embedder recorded for the index ``fingerprint``, if any."""
        name = await self._read(
            "read the index's embedder",
            lambda: self._client.hget(self._keys.embedders, fingerprint),
        )
        return None if name is None else _bytes(name).decode()

    async def _try_update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None
    ) -> StoredProfile:
        profile_key, seen_key = self._keys.profile(user), self._keys.seen(user)
        now = self._clock()
        async with self._client.pipeline() as pipe:
            await pipe.watch(profile_key, seen_key)
            stored = _bytes_hash(await pipe.hgetall(profile_key))
            current = decode_profile(stored, user.key) if stored else None
            if idempotency_key is not None and await self._seen(
                pipe, seen_key, idempotency_key, now
            ):
                return StoredProfile(current, applied=False)
            new = change(current)
            if new is None:
                return StoredProfile(current, applied=False)
            fields = encode_profile(new)
            pipe.multi()  # type: ignore[no-untyped-call]
            _write_difference(pipe, profile_key, stored, fields)
            self._move_pick_counts(pipe, current.picked if current else (), new.picked)
            if idempotency_key is not None:
                self._remember_key(pipe, seen_key, idempotency_key, now)
            await pipe.execute()
            return StoredProfile(new, applied=True)

    async def _try_forget(self, user: UserRef) -> None:
        profile_key = self._keys.profile(user)
        async with self._client.pipeline() as pipe:
            await pipe.watch(profile_key)
            picked = await pipe.hget(profile_key, _PICKED)
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(profile_key, self._keys.seen(user))
            self._move_pick_counts(pipe, _ids(None if picked is None else _bytes(picked)), ())
            await pipe.execute()

    async def _seen(self, pipe: Pipeline, seen_key: str, idempotency_key: str, now: float) -> bool:
        seen_at = await pipe.zscore(seen_key, idempotency_key)
        return seen_at is not None and seen_at > now - self._idempotency_ttl

    def _remember_key(
        self, pipe: Pipeline, seen_key: str, idempotency_key: str, now: float
    ) -> None:
        pipe.zremrangebyscore(seen_key, "-inf", now - self._idempotency_ttl)
        pipe.zadd(seen_key, {idempotency_key: now})
        pipe.expire(seen_key, int(self._idempotency_ttl))

    def _move_pick_counts(
        self, pipe: Pipeline, before: Sequence[int], after: Sequence[int]
    ) -> None:
        old, new = set(before), set(after)
        for movie_id in new - old:
            pipe.hincrby(self._keys.pick_counts, str(movie_id), 1)
        for movie_id in old - new:
            pipe.hincrby(self._keys.pick_counts, str(movie_id), -1)

    async def _read(self, action: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``, retried after each of ``READ_RETRY_DELAYS`` while Redis is unavailable."""
        with self._unavailable_as_error(action):
            for delay in READ_RETRY_DELAYS:
                try:
                    return await read()
                except RedisError as error:
                    if not _is_unavailable(error):
                        raise
                await asyncio.sleep(delay)
            return await read()

    @contextmanager
    def _unavailable_as_error(self, action: str) -> Iterator[None]:
        try:
            yield
        except RedisError as error:
            if not _is_unavailable(error):
                raise
            raise StoreUnavailableError(
                f"could not {action}: Redis at {self._where} is unreachable or too slow "
                f"({error}); try again in a minute"
            ) from error


class RedisKeys:
    """The names of the store's keys; see the module docstring."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.pick_counts = f"{prefix}:pick_counts"
        self.embedders = f"{prefix}:embedders"
        self.profile_pattern = f"{_glob_escaped(prefix)}:{{*}}:profile"

    def profile(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:profile"

    def seen(self, user: UserRef) -> str:
        return f"{self._user_part(user)}:seen"

    def user_of(self, profile_key: bytes | str) -> UserRef | None:
        """The user a profile key belongs to, or ``None`` for a key of another shape."""
        key = profile_key.decode() if isinstance(profile_key, bytes) else profile_key
        head, tail = f"{self.prefix}:{{", "}:profile"
        tag = key[len(head) : -len(tail)] if key.startswith(head) and key.endswith(tail) else ""
        platform, colon, user_id = tag.partition(":")
        return UserRef(unquote(platform), unquote(user_id)) if colon else None

    def _user_part(self, user: UserRef) -> str:
        return f"{self.prefix}:{{{quote(user.platform, safe='')}:{quote(user.user_id, safe='')}}}"


def encode_vector(vector: Vectors, fingerprint: str) -> bytes:
    """A finite 1-d vector as tagged float32 little-endian bytes (see the module docstring).

    Raises:
        ValueError: the vector is not 1-d or not finite.
    """
    values = np.asarray(vector, dtype="<f4")
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError("a taste vector must be one-dimensional and finite")
    tag = fingerprint.encode()
    return b"".join(
        (
            _VECTOR_MAGIC,
            _FINGERPRINT_LENGTH.pack(len(tag)),
            tag,
            _DIM.pack(len(values)),
            values.tobytes(),
        )
    )


def decode_vector(blob: bytes, fingerprint: str) -> Vectors:
    """The vector of ``blob``, checked against its tag and the expected ``fingerprint``.

    Raises:
        RejectedVectorError: wrong format or length, another fingerprint, NaN or Inf.
    """
    if not blob.startswith(_VECTOR_MAGIC):
        raise RejectedVectorError("not a stored vector")
    offset = len(_VECTOR_MAGIC)
    (tag_length,) = _FINGERPRINT_LENGTH.unpack_from(blob, offset)
    offset += _FINGERPRINT_LENGTH.size
    tag = blob[offset : offset + tag_length].decode(errors="replace")
    offset += tag_length
    if tag != fingerprint:
        raise RejectedVectorError(f"made for index {tag!r}, not {fingerprint!r}")
    if len(blob) < offset + _DIM.size:
        raise RejectedVectorError("truncated")
    (dim,) = _DIM.unpack_from(blob, offset)
    data = blob[offset + _DIM.size :]
    if len(data) != 4 * dim:
        raise RejectedVectorError(f"{len(data)} bytes for {dim} float32 values")
    vector: Vectors = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(vector)):
        raise RejectedVectorError("holds NaN or Inf")
    return vector


def encode_profile(profile: TasteProfile) -> dict[bytes, bytes]:
    """The hash fields of a profile; empty and missing values are left out."""
    fields = {_FINGERPRINT: profile.fingerprint.encode()}

    def vector_id(vector: Vectors | None) -> str | None:
        if vector is None:
            return None
        blob = encode_vector(vector, profile.fingerprint)
        name = hashlib.blake2b(blob, digest_size=8).hexdigest()
        fields[_VECTOR_FIELD_PREFIX + name.encode()] = blob
        return name

    if profile.picked:
        fields[_PICKED] = _ids_text(profile.picked)
    if profile.disliked:
        fields[_DISLIKED] = _ids_text(profile.disliked)
    if profile.last_pick_at is not None:
        fields[_LAST_PICK_AT] = repr(profile.last_pick_at).encode()
    if profile.vector is not None:
        fields[_VECTOR] = str(vector_id(profile.vector)).encode()
    if profile.undo:
        steps = [
            [
                s.action,
                s.movie_id,
                vector_id(s.previous_vector),
                s.previous_last_pick_at,
                s.was_disliked,
            ]
            for s in profile.undo
        ]
        fields[_UNDO] = json.dumps(steps, separators=(",", ":")).encode()
    return fields


def decode_profile(fields: Mapping[bytes, bytes], who: str) -> TasteProfile:
    """The profile of a stored hash; rejected vectors are logged and left out.

    Args:
        fields: the hash as Redis returned it.
        who: the user's key, for the log.

    Raises:
        ValueError: the hash is not a profile (no fingerprint, ids that are not numbers).
    """
    if _FINGERPRINT not in fields:
        raise ValueError(f"the stored profile of {who} has no fingerprint")
    fingerprint = fields[_FINGERPRINT].decode()
    last_pick_at = fields.get(_LAST_PICK_AT)
    profile = TasteProfile(
        fingerprint,
        picked=_ids(fields.get(_PICKED)),
        disliked=_ids(fields.get(_DISLIKED)),
        last_pick_at=None if last_pick_at is None else float(last_pick_at),
    )
    try:
        vector = _stored_vector(fields, fields.get(_VECTOR), fingerprint)
    except RejectedVectorError as error:
        log.warning("rejected the taste vector of %s (%s); it is rebuilt from picks", who, error)
        return TasteProfile(
            UNUSABLE_FINGERPRINT, None, profile.picked, profile.disliked, profile.last_pick_at
        )
    return TasteProfile(
        fingerprint,
        vector,
        profile.picked,
        profile.disliked,
        profile.last_pick_at,
        _undo_steps(fields, fingerprint, who),
    )


def _undo_steps(fields: Mapping[bytes, bytes], fingerprint: str, who: str) -> tuple[UndoStep, ...]:
    """The undo steps; a rejected step drops itself and every older step."""
    try:
        raw_steps = json.loads(fields.get(_UNDO, b"[]"))
    except ValueError as error:
        log.warning("dropped the undo history of %s: %s", who, error)
        return ()
    steps: list[UndoStep] = []
    for action, movie_id, vector, last_pick_at, was_disliked in raw_steps:
        try:
            previous = _stored_vector(fields, vector, fingerprint)
        except RejectedVectorError as error:
            log.warning("rejected an undo vector of %s (%s); older undo steps dropped", who, error)
            steps.clear()
            continue
        steps.append(UndoStep(action, int(movie_id), previous, last_pick_at, bool(was_disliked)))
    return tuple(steps)


def _stored_vector(
    fields: Mapping[bytes, bytes], vector_id: bytes | str | None, fingerprint: str
) -> Vectors | None:
    if vector_id is None:
        return None
    name = vector_id.encode() if isinstance(vector_id, str) else vector_id
    blob = fields.get(_VECTOR_FIELD_PREFIX + name)
    if blob is None:
        raise RejectedVectorError(f"vector {name.decode(errors='replace')} is missing")
    return decode_vector(blob, fingerprint)


def _write_difference(
    pipe: Pipeline, key: str, old: Mapping[bytes, bytes], new: Mapping[bytes, bytes]
) -> None:
    changed: dict[FieldT, EncodableT] = {
        field: value for field, value in new.items() if old.get(field) != value
    }
    gone = [field for field in old if field not in new]
    if changed:
        pipe.hset(key, mapping=changed)
    if gone:
        pipe.hdel(key, *gone)


def _bytes_hash(reply: Mapping[bytes | str, bytes | str]) -> dict[bytes, bytes]:
    """A hash as the store's client returns it: it never decodes, so everything is bytes."""
    return cast(dict[bytes, bytes], reply)


def _bytes(reply: bytes | str) -> bytes:
    return cast(bytes, reply)


def _ids_text(ids: Sequence[int]) -> bytes:
    return ",".join(str(movie_id) for movie_id in ids).encode()


def _ids(text: bytes | None) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(b",")) if text else ()


def _conflict_backoff(attempt: int) -> float:
    cap = min(CONFLICT_BACKOFF_CAP_SECONDS, CONFLICT_BACKOFF_SECONDS * 2**attempt)
    return random.uniform(0, cap)


def _is_unavailable(error: RedisError) -> bool:
    """Whether the error says Redis cannot serve now, rather than that the request is wrong."""
    if isinstance(error, _UNAVAILABLE_ERRORS):
        return True
    return isinstance(error, ResponseError) and str(error).startswith(_UNAVAILABLE_REPLIES)


def _address(client: Redis) -> str:
    options: dict[str, Any] = client.connection_pool.connection_kwargs
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def _glob_escaped(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)
