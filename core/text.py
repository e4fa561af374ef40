"""The text a movie is embedded as, and the cleaning of a user's search text."""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidQueryError
from core.models import Movie

# Both embedders read at most 256-512 tokens; longer text only costs time.
MAX_QUERY_CHARS = 500
MAX_CAST_NAMES = 5
# Bump when document_text changes: vectors made from another template do not match.
DOCUMENT_TEMPLATE_VERSION = 1


def document_text(movie: Movie) -> str:
    """Render a movie for embedding: title and year, genres, overview, lead cast.

    >>> document_text(Movie(1, "Die Hard", 1988, ("Action", "Thriller"), "A cop..."))
    'Die Hard (1988). Genres: Action, Thriller. A cop...'
    """
    parts = [f"{movie.label}."]
    if movie.genres:
        parts.append(f"Genres: {', '.join(movie.genres)}.")
    if movie.overview:
        parts.append(movie.overview)
    if movie.cast:
        parts.append(f"Starring {', '.join(movie.cast[:MAX_CAST_NAMES])}.")
    return " ".join(parts)


def clean_query(text: str) -> str:
    """Normalize a user's search text, or raise :class:`InvalidQueryError` if nothing is left.

    Control and formatting characters are dropped, whitespace is collapsed and the
    result is cut to :data:`MAX_QUERY_CHARS`; letters of any script and emoji are kept.
    """
    normalized = unicodedata.normalize("NFC", text)
    kept = "".join(" " if _is_noise(char) else char for char in normalized)
    query = " ".join(kept.split())[:MAX_QUERY_CHARS].strip()
    if not query:
        raise InvalidQueryError()
    return query


MULTILINGUAL_MODELS = frozenset({"ollama:bge-m3", "ollama:paraphrase-multilingual"})
"""Embedders (by name, tag aside) that place a query near its translation."""


def reads_many_languages(embedder_name: str) -> bool:
    """Whether the embedder of this name (``ollama:bge-m3:567m``) reads languages other
    than English; the packaged MiniLM models do not."""
    kind, _, model = embedder_name.partition(":")
    return f"{kind}:{model.split(':', 1)[0]}" in MULTILINGUAL_MODELS


def in_cyrillic(text: str) -> bool:
    """Whether ``text`` has a Cyrillic letter (a query in Russian, Ukrainian...)."""
    return any("\u0400" <= char <= "\u04ff" for char in text)


def _is_noise(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} and char != "\u200d"


def names_title(query: str, title: str) -> bool:
    """Whether the query's words stand together, in order, among the title's words, case
    and accents aside: "die hard" names "Live Free or Die Hard", not "Live and Let Die"."""
    asked, words = _words(query), _words(title)
    return bool(asked) and any(
        words[start : start + len(asked)] == asked for start in range(len(words) - len(asked) + 1)
    )


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return re.findall(r"\w+", "".join(c for c in decomposed if not unicodedata.combining(c)))
