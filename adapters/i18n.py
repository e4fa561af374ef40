"""The bot's words in every language it speaks: gettext catalogs, made with Babel.

Message ids are the English texts. Each other language has a catalog,
``adapters/locale/<language>/LC_MESSAGES/moviebot.po``, which the build compiles to
``moviebot.mo`` beside it (``hatch_build.py``; a wheel ships only the ``.mo``). A source
checkout that was never built (tests run with ``PYTHONPATH``), or whose ``.po`` is newer
than its ``.mo``, has the ``.po`` compiled in memory on first use, so a catalog in use is
never older than its source.

Messages are ``str.format`` templates with named fields (``{movie}``); a plural message
gets its number as ``{count}``. Every message is marked where it is written, for
extraction: ``words.gettext(...)``, ``words.ngettext(...)``, ``words.pgettext(...)`` when
it is said at once, ``N_(...)``/``NP_(...)`` when it is kept to be said later.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

DOMAIN = "moviebot"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "ru")
"""Every language the bot speaks, the source language first."""
KEYWORDS = {
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
    "NP_": ((1, "c"), 2),
    "locale_str": None,
}
"""The calls that mark a message, as Babel's extraction reads them (``pybabel extract
-k``, see README)."""


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools know)
    """Mark ``message`` for the catalog; it is translated where it is said."""
    return message


def NP_(context: str, message: str) -> str:  # noqa: N802
    """Mark ``message`` in ``context`` for the catalog; translated with ``pgettext``."""
    return message


class Words:
    """What the bot says in one language: catalog look-ups that fill in named fields."""

    def __init__(self, language: str, catalog: gettext.NullTranslations) -> None:
        self.language = language
        self._catalog = catalog

    def gettext(self, message: str, /, **values: object) -> str:
        """``message`` in this language, its fields filled from ``values``."""
        return _filled(self._catalog.gettext(message), values)

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """The form of the message that goes with ``count`` (Russian has three); the
        number fills ``{count}``."""
        return _filled(self._catalog.ngettext(singular, plural, count), {"count": count, **values})

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        """``message`` as meant in ``context`` (a word with several meanings)."""
        return _filled(self._catalog.pgettext(context, message), values)


def language_of(code: str | None) -> str:
    """The language the bot speaks for a platform's language tag (``ru``, ``ru-RU``,
    ``ru_RU``): its primary part when the bot speaks it, else the source language."""
    primary = (code or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else SOURCE_LANGUAGE


@functools.cache
def words(language: str) -> Words:
    """The words of ``language`` (one of ``LANGUAGES``; another gets the source
    language's)."""
    language = language_of(language)
    if language == SOURCE_LANGUAGE:
        return Words(language, gettext.NullTranslations())
    return Words(language, _catalog(language))


def catalog_paths(language: str) -> tuple[Path, Path]:
    """The ``.po`` and ``.mo`` files of ``language``."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def compile_catalog(po: Path) -> bytes:
    """The ``.mo`` bytes of the catalog ``po``."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    return compiled.getvalue()


def _catalog(language: str) -> gettext.GNUTranslations:
    po, mo = catalog_paths(language)
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    return gettext.GNUTranslations(io.BytesIO(compile_catalog(po)))


def _filled(template: str, values: dict[str, object]) -> str:
    return template.format(**values) if values else template
