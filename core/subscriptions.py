"""Who wants the weekly exploratory picks, and when, in their own time zone."""

from __future__ import annotations

import functools
from zoneinfo import available_timezones

from core.errors import InvalidSlotError, UnknownTimeZoneError
from core.models import Notice, Subscription, UserRef
from core.ports import ProfileStore

DEFAULT_WEEKLY_SLOT = Subscription(weekday=4, hour=18)  # Friday, 18:00 UTC
# The longest IANA name is 32 characters; Discord's option field allows 64. A name is
# looked up in the known set, never opened: ZoneInfo("a/" * 250 + "b") recurses too deep.
MAX_TIMEZONE_CHARS = 64


class Subscriptions:
    """Subscribing to the weekly picks and leaving them, over the profile store."""

    def __init__(
        self, store: ProfileStore, default_slot: Subscription = DEFAULT_WEEKLY_SLOT
    ) -> None:
        self._store = store
        self._default_slot = default_slot

    async def subscribe(
        self,
        user: UserRef,
        weekday: int | None = None,
        hour: int | None = None,
        timezone: str | None = None,
        language: str | None = None,
    ) -> Subscription:
        """Subscribe to the weekly exploratory picks; parts not given keep the user's
        current slot, or the default one. ``language``, the one the user speaks now, is
        stored unless they chose one before, so that the picks come in it.

        Raises:
            InvalidSlotError: a weekday outside 0-6 or an hour outside 0-23.
            UnknownTimeZoneError: the time zone is not an IANA name this machine knows.
        """
        current = await self._store.subscription(user) or self._default_slot
        slot = Subscription(
            current.weekday if weekday is None else weekday,
            current.hour if hour is None else hour,
            timezone or current.timezone,
        )
        _check_slot(slot)
        await self._store.set_subscription(user, slot)
        if language is not None and await self._store.language(user) is None:
            await self._store.set_language(user, language)
        return slot

    async def unsubscribe(self, user: UserRef) -> bool:
        """Stop the weekly picks; ``False`` if the user was not subscribed."""
        was_subscribed = await self._store.subscription(user) is not None
        await self._store.set_subscription(user, None)
        return was_subscribed

    async def take_notices(self, user: UserRef) -> frozenset[Notice]:
        """What to tell the user once, such as that a push could not reach them and
        they were unsubscribed; empty when there is nothing.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        return await self._store.take_notices(user)


def _check_slot(slot: Subscription) -> None:
    if not 0 <= slot.weekday <= 6 or not 0 <= slot.hour <= 23:
        raise InvalidSlotError(slot.weekday, slot.hour)
    if len(slot.timezone) > MAX_TIMEZONE_CHARS or slot.timezone not in known_timezones():
        raise UnknownTimeZoneError(slot.timezone)


@functools.cache
def known_timezones() -> frozenset[str]:
    """The IANA time zone names this machine knows, read once."""
    return frozenset(available_timezones())
