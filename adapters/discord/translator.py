"""Slash commands in the user's language: Discord shows each user the names and
descriptions of their client's locale, which the catalogs translate at sync time."""

from __future__ import annotations

from discord import Locale
from discord.app_commands import (
    TranslationContextLocation,
    TranslationContextTypes,
    Translator,
    locale_str,
)

from adapters import texts
from adapters.i18n import SOURCE_LANGUAGE, language_of, words

CONTEXTS = {
    TranslationContextLocation.command_name: "command",
    TranslationContextLocation.parameter_name: "option",
    TranslationContextLocation.choice_name: "weekday",
}
"""The catalog context of each kind of name (descriptions have none)."""
DESCRIPTIONS = frozenset(
    {
        TranslationContextLocation.command_description,
        TranslationContextLocation.parameter_description,
    }
)


class CatalogTranslator(Translator):
    """Translates command and option names, their descriptions and the choices of an
    option, from the catalogs; a locale of no catalog keeps the English of the code."""

    async def translate(
        self, string: locale_str, locale: Locale, context: TranslationContextTypes
    ) -> str | None:
        language = language_of(locale.value)
        if language == SOURCE_LANGUAGE:
            return None
        said = words(language)
        message = string.extras.get("msgid", string.message)
        if context.location in CONTEXTS:
            return said.pgettext(CONTEXTS[context.location], message)
        if context.location in DESCRIPTIONS:
            return capitalized(said.gettext(message))
        return None


def capitalized(text: str) -> str:
    """``text`` with its first letter upper-case, as Discord shows a description."""
    return text[:1].upper() + text[1:]


def described(command: str) -> locale_str:
    """The description of the app command ``command``, what it does as a sentence; the
    translator finds it in the catalogs by its message id."""
    description = next(c.description for c in texts.COMMANDS if c.name == command)
    return locale_str(capitalized(description), msgid=description)
