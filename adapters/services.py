"""What the handlers of a chat door work with, passed in as one object."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters import i18n
from adapters.buttons import ButtonCodec
from adapters.i18n import SOURCE_LANGUAGE, Words
from adapters.observe import CommandObserver, ignore
from adapters.rate_limit import RateLimit, UserRateLimit
from core.errors import StoreUnavailableError
from core.languages import Languages
from core.models import UserRef
from core.recommender import Recommender
from core.subscriptions import Subscriptions


@dataclass(frozen=True, slots=True)
class ChatServices:
    """The core services a door calls, the signer of its buttons, its limits per user
    (on searches, and on every command and button), the observer of its commands and the
    users' chosen languages."""

    recommender: Recommender
    subscriptions: Subscriptions
    codec: ButtonCodec
    searches: RateLimit = field(default_factory=UserRateLimit)
    requests: RateLimit = field(default_factory=lambda: UserRateLimit(limit=30, window=60.0))
    observer: CommandObserver = ignore
    languages: Languages = field(kw_only=True)

    async def words(self, user: UserRef, reported: str | None) -> Words:
        """What to say to ``user``: in the language they chose, else in the one their
        platform reports (``reported``, a tag such as ``ru-RU``), which also serves
        while the store does not answer."""
        try:
            chosen = await self.languages.chosen(user)
        except StoreUnavailableError:
            chosen = None
        return i18n.words(chosen or i18n.language_of(reported))


async def stored_language(languages: Languages, user: UserRef) -> str:
    """The language ``user`` chose or subscribed in; English when none is stored or the
    store does not answer (a push is not held up for it)."""
    try:
        return await languages.chosen(user) or SOURCE_LANGUAGE
    except StoreUnavailableError:
        return SOURCE_LANGUAGE
