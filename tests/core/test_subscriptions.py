"""Subscribing to the weekly picks, on a memory store."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequestError
from core.models import Subscription, UserRef
from core.stores.memory import MemoryProfileStore
from core.subscriptions import Subscriptions

ALICE = UserRef("telegram", "1")


async def test_subscribe_fills_in_the_slot_and_refuses_bad_ones() -> None:
    store = MemoryProfileStore()
    subscriptions = Subscriptions(store)
    assert await subscriptions.subscribe(ALICE) == Subscription(4, 18, "UTC")
    assert await subscriptions.subscribe(ALICE, hour=7) == Subscription(4, 7, "UTC")
    assert await subscriptions.subscribe(ALICE, 0, None, "Asia/Tokyo") == Subscription(
        0, 7, "Asia/Tokyo"
    )
    for weekday, hour, zone in ((7, None, None), (None, 24, None), (None, None, "Mars/Base")):
        with pytest.raises(InvalidRequestError):
            await subscriptions.subscribe(ALICE, weekday, hour, zone)
    assert await store.subscription(ALICE) == Subscription(0, 7, "Asia/Tokyo")
    assert await subscriptions.unsubscribe(ALICE) is True
    assert await subscriptions.unsubscribe(ALICE) is False
    assert await store.subscription(ALICE) is None


async def test_a_time_zone_is_looked_up_never_opened() -> None:
    store = MemoryProfileStore()
    subscriptions = Subscriptions(store)
    for zone in ("a/" * 250 + "b", "Europe/" + "x" * 60, "../../etc/passwd", "Europe/Berlin\x00"):
        with pytest.raises(InvalidRequestError):
            await subscriptions.subscribe(ALICE, timezone=zone)
    assert await store.subscription(ALICE) is None
    assert await subscriptions.subscribe(ALICE, timezone="UTC") == Subscription(4, 18, "UTC")


async def test_subscribing_keeps_the_language_spoken_unless_one_was_chosen() -> None:
    store = MemoryProfileStore()
    subscriptions = Subscriptions(store)
    await subscriptions.subscribe(ALICE, language="ru")
    assert await store.language(ALICE) == "ru"
    await subscriptions.subscribe(ALICE, language="en")
    assert await store.language(ALICE) == "ru"
    with pytest.raises(InvalidRequestError):
        await subscriptions.subscribe(UserRef("telegram", "2"), hour=99, language="ru")
    assert await store.language(UserRef("telegram", "2")) is None
