"""Discord embeds and buttons, checked without a network."""

from __future__ import annotations

import discord

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.discord import render
from adapters.discord.cog import MovieCommands
from adapters.discord.components import CUSTOM_ID, PayloadButton
from adapters.discord.movienight import MovieNightCommands
from adapters.i18n import words
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
ALICE = UserRef("discord", "80351110224678912")
HOSTILE = Movie(
    2**62,
    "**Bold** @everyone <@123> `code` " * 20,
    1999,
    ("Action", "Drama"),
    "A ||spoiler|| and __underline__ " * 40,
)


def buttons_of(reply: render.Reply) -> list[PayloadButton]:
    assert reply.view is not None
    return [item for item in reply.view.children if isinstance(item, PayloadButton)]


async def test_search_results_have_an_embed_and_three_signed_buttons_per_movie() -> None:
    hits = [
        SearchHit(Movie(100 + n, f"Movie {n}", 2000 + n, ("Drama",), "Plot."), 0.5)
        for n in range(5)
    ]

    reply = render.movie_list(EN, "Search results", hits, ALICE, CODEC)

    assert [embed.title for embed in reply.embeds] == [
        f"{n + 1}. Movie {n} ({2000 + n})" for n in range(5)
    ]
    buttons = buttons_of(reply)
    assert len(buttons) == 15
    pressed = [CODEC.read(ALICE, button.payload) for button in buttons]
    assert pressed[:3] == [
        Button(ButtonAction.PICK, 100),
        Button(ButtonAction.DISLIKE, 100),
        Button(ButtonAction.SIMILAR, 100),
    ]
    assert [button.item.row for button in buttons] == [n // 3 for n in range(15)]
    for button in buttons:
        assert CUSTOM_ID.fullmatch(button.custom_id) and len(button.custom_id) <= 100


async def test_an_embed_links_the_movies_page_and_shows_its_rating() -> None:
    die_hard = Movie(
        562, "Die Hard", 1988, ("Action",), "A cop.", vote_average=7.5, vote_count=40, tmdb_id=562
    )

    reply = render.movie_list(EN, "Search results", [SearchHit(die_hard, 0.5)], ALICE, CODEC)
    (embed,) = reply.embeds

    assert embed.url == "https://www.themoviedb.org/movie/562"
    assert embed.description == "★ 7.5 (40 votes)\nA cop."
    assert embed.footer.text == "Action"


async def test_a_page_puts_back_and_more_after_the_last_movies_buttons() -> None:
    hits = tuple(SearchHit(Movie(n, f"Movie {n}"), 0.5) for n in range(5))

    reply = render.page(EN, Page(ListKind.SIMILAR, hits, 5, 5, 50, 12, hits[0].movie), ALICE, CODEC)

    assert reply.content == "**Like Movie 0, 6-10 of 50**"
    assert reply.embeds[0].title == "6. Movie 0"
    buttons = buttons_of(reply)
    assert [button.item.row for button in buttons] == [n // 3 for n in range(15)] + [4, 4]
    assert [CODEC.read(ALICE, button.payload) for button in buttons[-2:]] == [
        Button(ButtonAction.PAGE, list_id=12, offset=0),
        Button(ButtonAction.PAGE, list_id=12, offset=10),
    ]
    assert [button.item.label for button in buttons[-2:]] == ["◂ back", "more ▸"]


async def test_catalog_text_cannot_format_or_ping() -> None:
    heat = Movie(3, "**Heat** @here", 1995)
    recommendation = Recommendation(HOSTILE, 1.0, Reason(ReasonKind.CLOSE_TO_PICK, heat))

    reply = render.movie_list(EN, "For @everyone", [recommendation], ALICE, CODEC)

    embed = reply.embeds[0]
    assert embed.title is not None and len(embed.title) <= 256
    assert embed.description is not None and "\\*\\*Heat\\*\\*" in embed.description
    assert "@\u200bhere" in embed.description and "\\|\\|spoiler\\|\\|" in embed.description
    assert "@\u200beveryone" in reply.content
    assert reply.message()["allowed_mentions"].to_dict()["parse"] == []
    assert all(len(button.item.label or "") <= 80 for button in buttons_of(reply))
    assert len(embed) <= 6000


async def test_an_empty_list_says_so_without_buttons() -> None:
    reply = render.movie_list(EN, "Search results", [], ALICE, CODEC)

    assert EN.gettext(texts.EMPTY_LIST) in reply.content and reply.view is None
    assert "view" not in reply.message()


def test_a_profile_without_picks_invites_a_search() -> None:
    assert render.profile_reply(EN, ProfileSummary(0, 0, (), ())).content == EN.gettext(
        texts.NO_PICKS_YET
    )


def test_a_profile_lists_genres_and_last_picks() -> None:
    summary = ProfileSummary(3, 1, ("Drama", "Action"), (HOSTILE,))

    embed = render.profile_reply(EN, summary).embeds[0]

    assert embed.title == "3 picks, 1 less-like-this"
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Top genres"] == "Drama, Action"
    assert fields["Last picks"] is not None and "@everyone" not in fields["Last picks"]


async def test_forget_asks_with_one_signed_button() -> None:
    reply = render.forget_confirmation(EN, ALICE, CODEC)

    (button,) = buttons_of(reply)
    assert CODEC.read(ALICE, button.payload) == Button(ButtonAction.FORGET)
    assert button.item.style is discord.ButtonStyle.danger


def test_help_lists_exactly_the_slash_commands() -> None:
    cogs = (MovieCommands, MovieNightCommands)
    registered = {command.name for cog in cogs for command in cog.__cog_app_commands__}
    assert {command.name for command in render.COMMANDS} == registered
