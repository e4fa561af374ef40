"""Telegram texts and keyboards, checked without a network."""

from __future__ import annotations

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.i18n import words
from adapters.telegram import render
from core.models import (
    Movie,
    ProfileSummary,
    Reason,
    ReasonKind,
    Recommendation,
    SearchHit,
    UserRef,
)

EN = words("en")
CODEC = ButtonCodec(b"a render test secret, 32 bytes!!", "f1")
ALICE = UserRef("telegram", "42")
HOSTILE = Movie(
    9,
    "<b>Bold</b> & <script>alert(1)</script>",
    1999,
    ("Action",),
    "A <i>tag</i> & more " * 40,
)


def test_titles_and_overviews_are_escaped() -> None:
    reply = render.movie_list(EN, "Search results", [SearchHit(HOSTILE, 0.5)], ALICE, CODEC)
    assert "<script>" not in reply.text and "&lt;script&gt;" in reply.text
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp;" in reply.text
    assert reply.text.startswith("<b>Search results</b>")


def test_five_huge_movies_stay_under_the_message_limit() -> None:
    huge = Movie(1, "T" * 10_000, 2000, ("Drama",) * 20, "word " * 5_000)
    close_to_huge = Reason(ReasonKind.CLOSE_TO_PICK, Movie(2, "X" * 5_000))
    recs = [Recommendation(huge, 1.0, close_to_huge) for _ in range(5)]
    assert len(render.movie_list(EN, "For you", recs, ALICE, CODEC).text) < 4096


def test_every_movie_gets_signed_pick_and_dislike_buttons() -> None:
    movies = [Movie(i, f"Movie {i}") for i in (3, 562, 2**40)]
    reply = render.movie_list(EN, "x", [SearchHit(m, 0.1) for m in movies], ALICE, CODEC)
    assert reply.keyboard is not None
    rows = reply.keyboard.inline_keyboard
    assert [row[0].text for row in rows] == [
        "👍 1. Movie 3",
        "👍 2. Movie 562",
        f"👍 3. Movie {2**40}",
    ]
    for movie, (pick, dislike) in zip(movies, rows, strict=True):
        assert CODEC.read(ALICE, str(pick.callback_data)) == Button(
            ButtonAction.PICK, movie.movie_id
        )
        assert CODEC.read(ALICE, str(dislike.callback_data)) == Button(
            ButtonAction.DISLIKE, movie.movie_id
        )
        assert len(str(pick.callback_data).encode()) <= 64


def test_marking_a_pressed_button_once() -> None:
    reply = render.movie_list(EN, "x", [SearchHit(Movie(5, "Up"), 0.1)], ALICE, CODEC)
    pressed = str(reply.keyboard.inline_keyboard[0][0].callback_data)  # type: ignore[union-attr]
    marked = render.marked_keyboard(reply.keyboard, pressed, "✓")
    assert marked is not None and marked.inline_keyboard[0][0].text == "✓ 👍 1. Up"
    assert marked.inline_keyboard[0][1].text == "👎 less like this"
    assert render.marked_keyboard(marked, pressed, "✓") is None


def test_empty_results_and_profiles_say_what_to_do() -> None:
    assert "Nothing found" in render.movie_list(EN, "Search results", [], ALICE, CODEC).text
    empty = ProfileSummary(0, 0, (), ())
    assert "No picks yet" in render.profile_text(EN, empty)
    full = ProfileSummary(2, 1, ("Drama",), (Movie(1, "A & B", 2001), Movie(2, "C")))
    assert render.profile_text(EN, full) == (
        "<b>2 picks</b>, 1 less-like-this\nTop genres: Drama\nLast picks: A &amp; B (2001), C"
    )


def test_help_lists_every_command() -> None:
    text = render.help_text(EN)
    for command in texts.COMMANDS:
        assert f"/{command.name} — " in text
