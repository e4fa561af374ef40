"""Telegram texts and keyboards, checked without a network."""

from __future__ import annotations

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.i18n import words
from adapters.telegram import render
from core.models import (
    ListKind,
    Movie,
    Page,
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


def test_every_movie_gets_signed_pick_dislike_and_like_this_buttons() -> None:
    movies = [Movie(i, f"Movie {i}") for i in (3, 562, 2**40)]
    reply = render.movie_list(EN, "x", [SearchHit(m, 0.1) for m in movies], ALICE, CODEC)
    assert reply.keyboard is not None
    rows = reply.keyboard.inline_keyboard
    assert [row[0].text for row in rows[::2]] == [
        "👍 1. Movie 3",
        "👍 2. Movie 562",
        f"👍 3. Movie {2**40}",
    ]
    for number, movie in enumerate(movies):
        (pick, _), (similar,) = rows[2 * number], rows[2 * number + 1]
        pressed = [CODEC.read(ALICE, str(button.callback_data)) for button in rows[2 * number]]
        assert pressed == [
            Button(ButtonAction.PICK, movie.movie_id),
            Button(ButtonAction.DISLIKE, movie.movie_id),
        ]
        assert CODEC.read(ALICE, str(similar.callback_data)) == Button(
            ButtonAction.SIMILAR, movie.movie_id
        )
        assert similar.text == "🔎 like this"
        assert len(str(pick.callback_data).encode()) <= 64


def test_a_card_shows_rating_runtime_and_a_button_to_its_page() -> None:
    die_hard = Movie(
        562,
        "Die Hard",
        1988,
        ("Action", "Thriller"),
        "NYPD cop John McClane's plan to reconcile with his estranged wife goes wrong.",
        vote_average=7.5,
        vote_count=3948,
        tmdb_id=562,
        runtime=131,
    )
    reply = render.movie_list(EN, "Search results", [SearchHit(die_hard, 0.6)], ALICE, CODEC)
    assert reply.text == (
        "<b>Search results</b>\n\n"
        "<b>1. Die Hard (1988)</b> · Action, Thriller\n"
        "★ 7.5 · 2h 11m\n"
        "NYPD cop John McClane's plan to reconcile with his estranged wife goes wrong."
    )
    assert reply.keyboard is not None
    link = reply.keyboard.inline_keyboard[1][1]
    assert (link.text, link.url) == ("TMDB ↗", "https://www.themoviedb.org/movie/562")
    imdb_only = Movie(7, "Heat", 1995, imdb_id="tt0113277")
    keyboard = render.movie_list(EN, "x", [SearchHit(imdb_only, 0.1)], ALICE, CODEC).keyboard
    assert keyboard is not None and keyboard.inline_keyboard[1][1].to_dict() == {
        "text": "IMDb ↗",
        "url": "https://www.imdb.com/title/tt0113277/",
    }
    no_page = render.movie_list(EN, "x", [SearchHit(Movie(8, "Up"), 0.1)], ALICE, CODEC).keyboard
    assert no_page is not None and len(no_page.inline_keyboard[1]) == 1


def test_pages_number_from_their_place_and_link_back_and_on() -> None:
    hits = tuple(SearchHit(Movie(n, f"Movie {n}"), 0.5) for n in range(5))
    middle = Page(ListKind.RECOMMENDED, hits, 5, 5, 50, list_id=2**47 + 3)
    reply = render.page(EN, middle, ALICE, CODEC)
    assert reply.text.startswith("<b>For you, 6-10 of 50</b>\n\n<b>6. Movie 0</b>")
    assert reply.keyboard is not None
    back, more = reply.keyboard.inline_keyboard[-1]
    assert (back.text, more.text) == ("◂ back", "more ▸")
    assert CODEC.read(ALICE, str(back.callback_data)) == Button(
        ButtonAction.PAGE, list_id=2**47 + 3, offset=0
    )
    assert CODEC.read(ALICE, str(more.callback_data)) == Button(
        ButtonAction.PAGE, list_id=2**47 + 3, offset=10
    )
    last = render.page(EN, Page(ListKind.SEARCH, hits, 45, 5, 50, list_id=1), ALICE, CODEC)
    assert last.keyboard is not None and [b.text for b in last.keyboard.inline_keyboard[-1]] == [
        "◂ back"
    ]
    unkept = render.page(EN, Page(ListKind.SEARCH, hits, 0, 5, 50), ALICE, CODEC)
    assert unkept.keyboard is not None and len(unkept.keyboard.inline_keyboard) == 10


def test_a_shared_card_opens_the_bot_on_movies_like_it() -> None:
    movie = Movie(562, "Die <Hard>", 1988, ("Action",), "A cop.", tmdb_id=562, vote_average=7.5)
    article = render.shared_card(EN, movie, "moviebot_test")
    assert (article.id, article.title) == ("562", "Die <Hard> (1988)")
    content = article.input_message_content
    assert content.message_text == "<b>Die &lt;Hard&gt; (1988)</b> · Action\n★ 7.5\nA cop."  # type: ignore[union-attr]
    (find, page), *_ = article.reply_markup.inline_keyboard  # type: ignore[union-attr]
    assert find.url == "https://t.me/moviebot_test?start=like_562"
    assert page.url == "https://www.themoviedb.org/movie/562"
    assert render.liked_movie("like_562") == 562
    assert [render.liked_movie(text) for text in ("like_", "like_x", "like_1 ", "562")] == [
        None
    ] * 4


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
