"""Every platform limit holds for any catalog row at any place of any list: property
tests over rows read by the catalog loader (any text, any numbers) and over pages,
checked by the same rules the Telegram and Discord stand-ins enforce."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import i18n
from adapters.buttons import ButtonCodec
from adapters.discord import render as discord_render
from adapters.discord.cog import MovieCommands
from adapters.i18n import Words
from adapters.services import ChatServices
from adapters.telegram import render as telegram_render
from core.browsing import LIST_LENGTH, PAGE_SIZE
from core.catalog import catalog_from_table
from core.index import MovieIndex
from core.languages import Languages
from core.models import (
    LIST_ID_BITS,
    Exploration,
    ListKind,
    Movie,
    Page,
    Reason,
    ReasonKind,
    Recommendation,
    SearchHit,
    UserRef,
)
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.subscriptions import Subscriptions
from testing import discord_api, telegram_api
from testing.doubles import FixedEmbedder

CODEC = ButtonCodec(b"a limits test secret of 32 bytes", "fingerprint")
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Hypothesis rarely draws long texts, let alone a page of them, by itself: the longest
# (characters that are two UTF-16 units on Telegram, markup that escaping lengthens on
# Discord) are drawn on purpose, and so are pages made only of them.
WORST = ("😀", "&", "<b>", "*", "_", "`", "\\", "||", "@everyone ", "<@123456789012345678>")
longest = st.builds(lambda unit, count: unit * count, st.sampled_from(WORST), st.integers(550, 600))
anything = st.one_of(st.text(max_size=600), longest)
number = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    anything,
)
genres = st.one_of(
    anything,
    st.lists(anything, max_size=8).map(", ".join),
    st.lists(st.fixed_dictionaries({"id": st.integers(), "name": anything}), max_size=8).map(
        json.dumps
    ),
)
rows = st.fixed_dictionaries(
    {"title": anything.filter(str.strip)},
    optional={
        "overview": anything,
        "genres": genres,
        "year": number,
        "release_date": st.one_of(st.dates().map(str), anything),
        "vote_average": number,
        "vote_count": number,
        "runtime": number,
        "tmdb_id": st.integers(1, 2**63 - 1).map(str),
        "imdb_id": st.one_of(st.from_regex(r"tt\d{7,10}", fullmatch=True), anything),
        "cast": anything,
        "producer": anything,
    },
)


@st.composite
def longest_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """A page of rows whose every text is as long as can be, all in one worst unit."""
    unit = draw(st.sampled_from(WORST))
    text = unit * (600 // len(unit))
    row = {"title": text, "overview": text, "genres": ", ".join([text] * 3)}
    row |= {
        "vote_average": "7.5",
        "vote_count": "42",
        "runtime": "131",
        "release_date": "1988-07-15",
    }
    return [row | {"tmdb_id": str(2**62 + n)} for n in range(PAGE_SIZE)]


@st.composite
def catalog_movies(draw: st.DrawFn, min_size: int = 1, max_size: int = PAGE_SIZE) -> list[Movie]:
    """Movies as the catalog loader reads them from any rows."""
    table = pd.DataFrame(
        draw(st.lists(rows, min_size=min_size, max_size=max_size) | longest_rows())
    )
    movies = list(catalog_from_table(table.astype(object), "generated").movies)
    return movies or [Movie(1, "x")]


@st.composite
def items(draw: st.DrawFn) -> list[SearchHit | Recommendation]:
    """What a list shows: search hits, or recommendations with any reason."""
    movies = draw(catalog_movies())
    if draw(st.booleans()):
        return [SearchHit(movie, 0.5) for movie in movies]
    exploration = draw(
        st.none() | st.builds(Exploration, st.none() | anything, st.none() | st.floats(0, 1))
    )
    pick = draw(st.sampled_from(movies))
    kinds = st.sampled_from(ReasonKind)
    return [Recommendation(m, 1.0, Reason(draw(kinds), pick, exploration)) for m in movies]


@st.composite
def pages(draw: st.DrawFn) -> Page:
    """Any page of any kept list (or of one that could not be kept)."""
    found = draw(items())
    offset = draw(st.integers(0, LIST_LENGTH // PAGE_SIZE - 1)) * PAGE_SIZE
    total = draw(st.integers(offset + len(found), LIST_LENGTH))
    list_id = draw(st.none() | st.integers(0, 2**LIST_ID_BITS - 1))
    about = draw(st.none() | st.sampled_from([item.movie for item in found]))
    return Page(
        draw(st.sampled_from(ListKind)), tuple(found), offset, PAGE_SIZE, total, list_id, about
    )


users = st.integers(1, 2**63 - 1).map(str)
languages = st.sampled_from(i18n.LANGUAGES).map(i18n.words)


@PROPERTIES
@given(page=pages(), user_id=users, welcome=st.booleans(), words=languages)
def test_a_telegram_page_fits_telegrams_limits(
    page: Page, user_id: str, welcome: bool, words: Words
) -> None:
    reply = telegram_render.page(words, page, UserRef("telegram", user_id), CODEC)
    text = f"{telegram_render.welcome(words)}\n\n{reply.text}" if welcome else reply.text
    telegram_api.check_text(text, "HTML")
    assert reply.keyboard is not None
    markup = reply.keyboard.to_dict()
    telegram_api.check_markup(markup)
    buttons = [button for row in markup["inline_keyboard"] for button in row]
    assert len(buttons) <= 100
    assert all(len(b.get("callback_data", "").encode()) <= 64 for b in buttons)


@PROPERTIES
@given(parts=st.lists(items(), min_size=1, max_size=12), words=languages)
def test_inline_answers_fit_telegrams_limits(
    parts: list[list[SearchHit | Recommendation]], words: Words
) -> None:
    found = list(itertools.chain.from_iterable(parts))
    cards = telegram_render.shared_cards(words, found, "moviebot")
    results = [result.to_dict() for result in cards]
    telegram_api.check_inline_results(results)
    assert len(results) == min(len({item.movie.movie_id for item in found}), 50)


def discord_message(reply: discord_render.Reply) -> dict[str, Any]:
    """The message Discord would be sent, as the stand-in reads it."""
    return {
        "content": reply.content,
        "embeds": [embed.to_dict() for embed in reply.embeds],
        "components": [] if reply.view is None else reply.view.to_components(),
        "attachments": [],
        "flags": 0,
    }


@PROPERTIES
@given(page=pages(), user_id=users, words=languages)
def test_a_discord_page_fits_discords_limits(page: Page, user_id: str, words: Words) -> None:
    reply = discord_render.page(words, page, UserRef("discord", user_id), CODEC)
    discord_api.check_limits(discord_message(reply))
    assert len(reply.embeds) <= 10 and sum(len(embed) for embed in reply.embeds) <= 6000
    assert all(len(embed.title or "") <= 256 and len(embed.fields) <= 25 for embed in reply.embeds)
    assert all(len(embed.description or "") <= 4096 for embed in reply.embeds)
    assert reply.view is not None
    rows = reply.view.to_components()
    assert len(rows) <= 5 and all(len(row["components"]) <= 5 for row in rows)
    for button in (button for row in rows for button in row["components"]):
        assert len(button["custom_id"]) <= 100 and len(button["label"]) <= 80


def completing_cog(movies: list[Movie]) -> MovieCommands:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(movies), 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = MovieIndex.from_vectors(movies, vectors, "test:limits")
    store = MemoryProfileStore()
    recommender = Recommender(index, FixedEmbedder("test:limits", 4), store)
    languages = Languages(store, i18n.LANGUAGES)
    return MovieCommands(
        ChatServices(recommender, Subscriptions(store), CODEC, languages=languages)
    )


@st.composite
def typing_in_a_catalog(draw: st.DrawFn) -> tuple[list[Movie], str]:
    """A catalog and what a user typed so far: any text, or the start of a title; half
    the catalogs have more titles that start alike than Discord takes choices."""
    movies = draw(catalog_movies(max_size=40))
    if draw(st.booleans()):
        sequels = [Movie(n, f"{movies[0].title} {n}") for n in range(1, 40)]
        movies = [*movies, *sequels]
    title = draw(st.sampled_from(movies)).title
    typed = draw(st.text(max_size=100) | st.integers(1, len(title)).map(lambda n: title[:n]))
    return movies, typed


@PROPERTIES
@given(typing=typing_in_a_catalog())
async def test_autocomplete_offers_at_most_25_choices_discord_takes(
    typing: tuple[list[Movie], str],
) -> None:
    movies, typed = typing
    cog = completing_cog(movies)
    for complete in (cog.search_titles, cog.similar_titles):
        choices = await complete(None, typed)  # type: ignore[arg-type]
        payload = [choice.to_dict() for choice in choices]
        discord_api.check_choices(payload)
        assert len(payload) <= 25
        assert all(1 <= len(str(c[key])) <= 100 for c in payload for key in ("name", "value"))


def test_the_checks_refuse_what_the_platforms_refuse() -> None:
    """The oracles above can fail: each refuses what is one over a limit."""
    reply = discord_render.movie_list(
        i18n.words("en"), "x", [SearchHit(Movie(1, "Up"), 0.1)], UserRef("d", "1"), CODEC
    )
    message = discord_message(reply)
    discord_api.check_limits(message)
    for broken in (
        message | {"embeds": [{"description": "x" * 3001}] * 2},
        message | {"components": message["components"] * 6},
    ):
        with pytest.raises(discord_api.LimitError):
            discord_api.check_limits(broken)
    with pytest.raises(discord_api.LimitError):
        discord_api.check_choices([{"name": "x" * 101, "value": "x"}])
    with pytest.raises(telegram_api.ApiError):
        telegram_api.check_markup({"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]})
    with pytest.raises(telegram_api.ApiError):
        telegram_api.check_text("😀" * 2049, "HTML")
    with pytest.raises(telegram_api.ApiError):
        telegram_api.check_inline_results([{"id": str(n)} for n in range(51)])
