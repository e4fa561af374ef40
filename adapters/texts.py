"""What the bot says the same way on every platform, as plain text."""

from __future__ import annotations

from core.models import Subscription

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNAVAILABLE = "I can't reach my memory right now, try again in a minute."
SLOW_DOWN = "Slow down a little, please: try again in a few seconds."
NO_PICKS_YET = "No picks yet. Search for a movie you like and press 👍."
FORGET_QUESTION = "Delete every pick and your taste? This cannot be undone."
FORGOTTEN = "Done: I forgot every pick and your taste."
EMPTY_LIST = "Nothing found — try other words."
WEEKLY_TITLE = "Your weekly picks: a step outside your taste"


def subscribed(slot: Subscription) -> str:
    """The confirmation of a subscription to the weekly picks; while the slot is in UTC,
    it asks for the user's time zone (chat platforms do not tell it)."""
    text = (
        f"Subscribed: every {WEEKDAYS[slot.weekday]} at {slot.hour:02d}:00 ({slot.timezone}), "
        "a few movies a step outside your taste. /unsubscribe stops them."
    )
    if slot.timezone == "UTC":
        text += "\nNot on UTC? Tell me your time zone once, e.g. /subscribe Europe/Berlin"
    return text


def unsubscribed(was_subscribed: bool) -> str:
    """The answer to ``/unsubscribe``."""
    return "Unsubscribed: no more weekly picks." if was_subscribed else "You were not subscribed."
