"""What the handlers of a chat door work with, passed in as one object."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.buttons import ButtonCodec
from adapters.observe import CommandObserver, ignore
from adapters.rate_limit import SearchRateLimit
from core.recommender import Recommender
from core.subscriptions import Subscriptions


@dataclass(frozen=True, slots=True)
class ChatServices:
    """The core services a door calls, the signer of its buttons, its limit on searches
    and the observer of its commands."""

    recommender: Recommender
    subscriptions: Subscriptions
    codec: ButtonCodec
    searches: SearchRateLimit = field(default_factory=SearchRateLimit)
    observer: CommandObserver = ignore
