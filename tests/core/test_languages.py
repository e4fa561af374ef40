"""Choosing the language a user speaks with the bot, on a memory store."""

from __future__ import annotations

import pytest

from core.errors import UnknownLanguageError
from core.languages import Languages
from core.models import UserRef
from core.stores.memory import MemoryProfileStore

ALICE = UserRef("telegram", "1")


async def test_a_known_language_is_stored_and_an_unknown_one_refused() -> None:
    store = MemoryProfileStore()
    languages = Languages(store, ("en", "ru"))
    assert await languages.chosen(ALICE) is None
    assert await languages.choose(ALICE, " RU ") == "ru"
    assert await languages.chosen(ALICE) == "ru"
    with pytest.raises(UnknownLanguageError) as refused:
        await languages.choose(ALICE, "klingon" * 20)
    assert refused.value.known == ("en", "ru")
    assert len(refused.value.language) <= 35
    assert await languages.chosen(ALICE) == "ru"


async def test_a_stored_language_no_longer_spoken_counts_as_none() -> None:
    store = MemoryProfileStore()
    await store.set_language(ALICE, "de")
    assert await Languages(store, ("en", "ru")).chosen(ALICE) is None
