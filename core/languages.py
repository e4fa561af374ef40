"""Which language each user speaks with the bot, kept with their profile."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import UnknownLanguageError
from core.models import UserRef
from core.ports import ProfileStore

MAX_LANGUAGE_CHARS = 35  # the longest BCP 47 tag a platform sends is far shorter


class Languages:
    """The users' chosen languages, among the ``known`` ones (codes such as ``ru``)."""

    def __init__(self, store: ProfileStore, known: Sequence[str]) -> None:
        self._store = store
        self.known = tuple(known)

    async def chosen(self, user: UserRef) -> str | None:
        """The language the user chose, or ``None``; a stored language the bot no longer
        speaks counts as none.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        language = await self._store.language(user)
        return language if language in self.known else None

    async def choose(self, user: UserRef, language: str) -> str:
        """Speak ``language`` with the user from now on (the weekly picks too).

        Raises:
            UnknownLanguageError: the bot does not speak it.
        """
        code = language.strip().lower()
        if code not in self.known:
            raise UnknownLanguageError(language[:MAX_LANGUAGE_CHARS], self.known)
        await self._store.set_language(user, code)
        return code
