"""The weekly picks' side of the profile store: each user's slot, the set of subscribers
walked by the push, and the notices kept for a user until they are next answered::

    moviebot:{telegram:123}:subscription   hash: weekday, hour, timezone
    moviebot:subscribers                   set: the subscription keys
    moviebot:{telegram:123}:notices        set: notices not told yet
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import partial
from typing import TypeVar

from redis.typing import EncodableT, FieldT

from core.models import Notice, Subscription, UserRef
from core.stores.redis.availability import Gate, read_with_retries, unavailable_as_error
from core.stores.redis.client import PIPELINE_CHUNK, Client, bytes_hash, read_hashes
from core.stores.redis.global_keys import commit_with_global_keys
from core.stores.redis.keys import RedisKeys

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_NOTICES = len(Notice)


class RedisSubscriptions:
    """Subscriptions and notices on the server, gate and keys of a profile store."""

    def __init__(self, client: Client, gate: Gate, keys: RedisKeys) -> None:
        self._client, self._gate, self._keys = client, gate, keys

    async def subscription(self, user: UserRef) -> Subscription | None:
        """When the user gets the weekly picks, or ``None``; read with retries.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        read = partial(self._client.hgetall, self._keys.subscription(user))
        fields = bytes_hash(await self._read(f"read the subscription of {user.key}", read))
        return _subscription_of(fields) if fields else None

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        """Subscribe the user at this slot, or unsubscribe them with ``None``, in one step.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        key = self._keys.subscription(user)
        async with (
            unavailable_as_error(
                self._client, self._gate, f"change the subscription of {user.key}"
            ),
            self._client.pipeline(transaction=True) as transaction,
        ):
            transaction.delete(key)
            if subscription is not None:
                transaction.hset(key, mapping=_subscription_fields(subscription))
            async with commit_with_global_keys(self._client, transaction) as global_keys:
                if subscription is None:
                    global_keys.srem(self._keys.subscribers, key)
                else:
                    global_keys.sadd(self._keys.subscribers, key)

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
            slots = await self._read("read subscriptions", partial(read_hashes, self._client, keys))
            for key, fields in zip(keys, slots, strict=True):
                user = self._keys.user_of(key, "subscription")
                subscription = _subscription_of(fields) if fields else None
                if user is not None and subscription is not None:
                    yield user, subscription

    async def add_notice(self, user: UserRef, notice: Notice) -> None:
        """Keep ``notice`` for the user (SADD).

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        async with unavailable_as_error(self._client, self._gate, f"keep a notice of {user.key}"):
            await self._client.sadd(self._keys.notices(user), notice.value)

    async def take_notices(self, user: UserRef) -> frozenset[Notice]:
        """The user's kept notices, popped in one command (SPOP), so each is given once;
        values of no known notice are dropped.

        Raises:
            StoreUnavailableError: Redis cannot be reached in time.
        """
        key = self._keys.notices(user)
        async with unavailable_as_error(
            self._client, self._gate, f"read the notices of {user.key}"
        ):
            values = await self._client.spop(key, MAX_NOTICES)
        known = {notice.value for notice in Notice}
        words = (value.decode() for value in values or () if isinstance(value, bytes))
        return frozenset(Notice(word) for word in words if word in known)

    async def _read(self, action: str, read: Callable[[], Awaitable[T]]) -> T:
        """``read()``, retried while Redis is unavailable."""
        return await read_with_retries(self._client, self._gate, action, read)


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
