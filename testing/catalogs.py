"""The bot's messages as the code marks them, and the catalogs that translate them: read
with Babel, for the tests of the catalogs and for updating them (``python -m
testing.catalogs`` writes every ``.po`` anew, keeping its translations)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from adapters.i18n import DOMAIN, KEYWORDS, LANGUAGES, SOURCE_LANGUAGE, catalog_paths

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("adapters", "bot")
TRANSLATED = tuple(language for language in LANGUAGES if language != SOURCE_LANGUAGE)

MessageKey = tuple[str | None, str]
"""A message's context (``None`` for none) and its id (the singular of a plural)."""


def extracted() -> Catalog:
    """Every message the code marks, with where it is marked."""
    catalog = Catalog(domain=DOMAIN, project="moviebot", charset="utf-8", msgid_bugs_address="")
    for folder in SOURCES:
        for path, line, message, comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            location = (f"{folder}/{path}", line)
            catalog.add(message, locations=[location], auto_comments=comments, context=context)
    return catalog


def translations(language: str) -> Catalog:
    """The catalog of ``language`` as its ``.po`` file holds it."""
    po, _ = catalog_paths(language)
    with po.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


def updated(language: str) -> Catalog:
    """The catalog of ``language`` with the messages of the code: new ones untranslated,
    gone ones dropped (``update`` keeps them as obsolete; a catalog here has none)."""
    catalog = translations(language)
    created = catalog.creation_date
    catalog.update(extracted(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.creation_date = created  # a run that changes no message changes no line
    return catalog


def write(catalog: Catalog, language: str) -> None:
    """Write ``catalog`` as the ``.po`` of ``language`` (files, not lines, as locations:
    they stay put while the code moves)."""
    po, _ = catalog_paths(language)
    with po.open("wb") as target:
        write_po(target, catalog, width=100, include_previous=False, include_lineno=False)


if __name__ == "__main__":
    for language in TRANSLATED:
        write(updated(language), language)
