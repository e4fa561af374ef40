"""What the handlers of a chat door work with, passed in as one object."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.buttons import ButtonCodec
from adapters.observe import CommandObserver, ignore
from adapters.rate_limit import RateLimit, UserRateLimit
from core.ports import ListStore
from core.recommender import Recommender
from core.stores.shown_lists import MemoryListStore
from core.subscriptions import Subscriptions


@dataclass(frozen=True, slots=True)
class ChatServices:
    """The core services a door calls, the signer of its buttons, its limits per user
    (on searches, and on every command and button), the observer of its commands and
    where the lists it shows are kept for paging."""

    recommender: Recommender
    subscriptions: Subscriptions
    codec: ButtonCodec
    searches: RateLimit = field(default_factory=UserRateLimit)
    requests: RateLimit = field(default_factory=lambda: UserRateLimit(limit=30, window=60.0))
    observer: CommandObserver = ignore
    lists: ListStore = field(default_factory=MemoryListStore)
