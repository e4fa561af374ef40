"""Coverage-guided fuzzing (atheris) of what a chat user controls, below the chat
libraries: button payloads, search text, and text that ends up in a Telegram message
(a query echoed back, a movie's title, genres and overview).

    python tests/fuzz/fuzz_user_input.py -runs=100000 -seed=1

Anything but the refusals each function documents is a finding: atheris stops and
prints the input that caused it.
"""

from __future__ import annotations

import sys
import unicodedata

import atheris

with atheris.instrument_imports():
    from adapters.buttons import ButtonCodec
    from adapters.i18n import words
    from adapters.telegram import render
    from core.errors import InvalidRequestError
    from core.models import Movie, Reason, ReasonKind, Recommendation, SearchHit, UserRef
    from core.text import MAX_QUERY_CHARS, clean_query
    from testing.telegram_api import check_text

EN = words("en")
CODEC = ButtonCodec(b"fuzzing secret, sixteen bytes or more", "fingerprint")


def check(data: bytes) -> None:
    """One fuzzed input, split into a user, a button payload and a text."""
    source = atheris.FuzzedDataProvider(data)
    user = UserRef("telegram", str(source.ConsumeIntInRange(0, 2**40)))
    payload = source.ConsumeUnicodeNoSurrogates(source.ConsumeIntInRange(0, 80))
    text = source.ConsumeUnicodeNoSurrogates(source.remaining_bytes())
    check_payload(user, payload)
    check_query(text)
    check_rendering(user, text)


def check_payload(user: UserRef, payload: str) -> None:
    """A payload is refused, or is exactly what this codec writes for that button."""
    try:
        button = CODEC.read(user, payload)
    except InvalidRequestError:
        return
    assert CODEC.write(user, button) == payload, payload


def check_query(text: str) -> None:
    """A query is refused, or is cleaned to a short text without control characters."""
    try:
        query = clean_query(text)
    except InvalidRequestError:
        return
    assert 0 < len(query) <= MAX_QUERY_CHARS, len(query)
    assert not any(unicodedata.category(c) in {"Cc", "Cs"} for c in query), query


def check_rendering(user: UserRef, text: str) -> None:
    """Any text as a movie's title, genres and overview, or as a list's title, gives a
    message Telegram accepts: well-formed HTML, at most 4,096 characters."""
    movie = Movie(1, text or "?", 1999, (text[:40], text[40:80]), overview=text)
    close_to_it = Reason(ReasonKind.CLOSE_TO_PICK, movie)
    replies = [
        render.movie_list(EN, text, [SearchHit(movie, 0.5)] * 5, user, CODEC),
        render.movie_list(EN, text, [Recommendation(movie, 0.5, close_to_it)] * 5, user, CODEC),
    ]
    for reply in replies:
        check_text(reply.text, "HTML")
    check_text(render.escape(text[:4000]), "HTML")


if __name__ == "__main__":
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()
