"""Browsing on Discord as people do it: pages of one list, "like this", /similar and the
title autocomplete, through the real discord.py, the local stand-in and the local Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import discord
import numpy as np
import pytest

from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.discord.bot import MovieBot, serving
from adapters.discord.cog import MovieCommands
from adapters.discord.components import PREFIX, PayloadButton
from adapters.i18n import LANGUAGES
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.models import UserRef
from core.ports import Embedder, ListStore, ProfileStore
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from core.stores.shown_lists import KEPT_LISTS, MemoryListStore
from core.subscriptions import Subscriptions
from testing.discord_api import TOKEN, Answer, FakeDiscord
from testing.doubles import FixedEmbedder
from testing.local_redis import local_redis_store
from testing.waiting import wait_until
from tests.adapters.test_discord import (
    ALICE,
    BOB,
    GUILD,
    SECRET,
    BrokenStore,
    custom_ids,
    labels,
    shown,
    slash,
)

ALICE_REF = UserRef("discord", str(ALICE))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        yield server


@pytest.fixture
async def store() -> AsyncIterator[RedisProfileStore]:
    async with local_redis_store(f"moviebot-test-{uuid.uuid4().hex[:12]}") as redis_store:
        yield redis_store


@asynccontextmanager
async def running_bot(
    index: MovieIndex, embedder: Embedder, store: ProfileStore, lists: ListStore
) -> AsyncIterator[MovieBot]:
    """The moviebot Discord client on the stand-in, its lists kept in ``lists``."""
    recommender = Recommender(index, embedder, store, rng=np.random.default_rng(0))
    codec = ButtonCodec(SECRET, index.fingerprint)
    languages = Languages(store, LANGUAGES)
    services = ChatServices(
        recommender,
        Subscriptions(store),
        codec,
        UserRateLimit(20, 60),
        lists=lists,
        languages=languages,
    )
    bot = MovieBot(MovieCommands(services), guild_ready_timeout=0.01)
    async with serving(bot, TOKEN):
        yield bot


@pytest.fixture
async def bot(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
) -> AsyncIterator[MovieBot]:
    async with running_bot(sample_index, local_embedder, store, store.shown_lists()) as client:
        yield client


def button(message: dict[str, Any], label: str) -> str:
    return next(
        b["custom_id"]
        for row in message["components"]
        for b in row["components"]
        if b["label"] == label
    )


async def turn(fake: FakeDiscord, user: int, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Press the button ``label`` of a message that then shows another page; the message."""
    pressed = fake.press(user, message, button(message, label))
    await wait_until(lambda: [a for a in fake.answers(pressed) if a.kind == "edit"])
    now = fake.message(message["id"])
    assert now is not None
    return now


def titles(message: dict[str, Any] | Answer) -> list[str]:
    embeds = message["embeds"] if isinstance(message, dict) else message.embeds
    return [embed["title"] for embed in embeds]


async def followup(fake: FakeDiscord, interaction_id: str) -> Answer:
    answers = await wait_until(
        lambda: [a for a in fake.answers(interaction_id) if a.kind == "followup"]
    )
    return answers[0]


async def test_browse_three_pages_of_one_search_and_back(
    bot: MovieBot,
    fake: FakeDiscord,
) -> None:
    results = await slash(fake, ALICE, "search", text="a cop fights terrorists in a skyscraper")
    first = shown(fake, results)
    assert labels(first)[-1] == "more ▸"

    second = await turn(fake, ALICE, first, "more ▸")
    third = await turn(fake, ALICE, second, "more ▸")

    assert (second["content"], third["content"]) == (
        "**Search results, 6-10 of 50**",
        "**Search results, 11-15 of 50**",
    )
    pages = [titles(page) for page in (first, second, third)]
    assert [title.split(". ")[0] for page in pages for title in page] == [
        str(n) for n in range(1, 16)
    ]
    assert len({title.split(". ", 1)[1] for page in pages for title in page}) == 15
    assert labels(third)[-2:] == ["◂ back", "more ▸"]
    assert all(len(row["components"]) <= 5 for row in third["components"])
    back = await turn(fake, ALICE, third, "◂ back")
    assert titles(back) == titles(second)


async def test_like_this_on_a_result_lists_the_nearest_movies(
    bot: MovieBot,
    fake: FakeDiscord,
) -> None:
    results = shown(fake, await slash(fake, ALICE, "search", text="die hard"))
    assert titles(results)[0] == "1. Die Hard (1988)"

    like = await followup(fake, fake.press(ALICE, results, button(results, "🔎 like this")))

    assert like.content == "**Like Die Hard (1988)**" and not like.ephemeral
    assert "1. Die Hard (1988)" not in titles(like) and "Die Hard 2 (1990)" in " ".join(
        titles(like)
    )


async def test_similar_takes_the_autocompleted_title(
    bot: MovieBot,
    fake: FakeDiscord,
) -> None:
    typing = fake.autocomplete(ALICE, "similar", {"title": "die h"}, "title", guild_id=GUILD)
    (answer,) = await wait_until(lambda: fake.answers(typing))
    choices = answer.choices
    assert choices[0] == {"name": "Die Hard (1988)", "value": "Die Hard (1988)"}

    similar = await slash(fake, ALICE, "similar", title=choices[1]["value"])

    assert similar.content == f"**Like {choices[1]['value']}**" and len(similar.embeds) == 5


async def test_search_completes_titles_as_the_user_types(
    bot: MovieBot,
    fake: FakeDiscord,
) -> None:
    completions = []
    for typed in ("t", "die", "die ha", "zzzz"):
        typing = fake.autocomplete(ALICE, "search", {"text": typed}, "text", guild_id=GUILD)
        (answer,) = await wait_until(lambda t=typing: fake.answers(t))
        completions.append([choice["value"] for choice in answer.choices])

    assert len(completions[0]) == 25
    assert completions[2][:3] == ["Die Hard", "Die Hard 2", "Die Hard with a Vengeance"]
    assert set(completions[2]) <= set(completions[1]) and completions[3] == []


async def test_titles_complete_while_the_store_and_the_model_are_down(
    fake: FakeDiscord,
    sample_index: MovieIndex,
) -> None:
    """What makes the answer come within Discord's 3 seconds: it asks neither."""
    broken = FixedEmbedder(sample_index.manifest.embedder, sample_index.dim)
    async with running_bot(sample_index, broken, BrokenStore(), MemoryListStore()):
        typing = fake.autocomplete(BOB, "search", {"text": "star"}, "text", guild_id=GUILD)
        (answer,) = await wait_until(lambda: fake.answers(typing))

    assert answer.type == 8 and 0 < len(answer.choices) <= 25
    assert all(choice["value"].lower().startswith("star") for choice in answer.choices[:3])


async def test_a_bad_page_or_like_this_press_gets_a_short_answer_and_changes_nothing(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore, sample_index: MovieIndex
) -> None:
    codec = ButtonCodec(SECRET, sample_index.fingerprint)
    results = shown(fake, await slash(fake, ALICE, "search", text="space adventure"))
    kept = codec.read(ALICE_REF, button(results, "more ▸").removeprefix(PREFIX))
    past_end = codec.write(ALICE_REF, Button(ButtonAction.PAGE, list_id=kept.list_id, offset=55))
    unknown = codec.write(ALICE_REF, Button(ButtonAction.SIMILAR, 123_456_789))
    view = discord.ui.View(timeout=None)
    for payload in (past_end, unknown):
        view.add_item(PayloadButton(payload, payload[:10]))
    await (await bot.create_dm(discord.Object(ALICE))).send("signed", view=view)
    crafted = fake.dms(ALICE)[-1]

    async def refused(user: int, message: dict[str, Any], custom_id: str) -> str:
        before = fake.message(message["id"])
        pressed = fake.press(user, message, custom_id)
        answers = await wait_until(lambda: [a for a in fake.answers(pressed) if a.content])
        assert fake.message(message["id"]) == before and len(answers) == 1
        assert answers[0].ephemeral and await store.load(ALICE_REF) is None
        return answers[0].content or ""

    more = button(results, "more ▸")
    assert await refused(BOB, results, more) == (
        "These are someone else's picks — run /search yourself."
    )
    like = button(results, "🔎 like this")
    assert (await refused(BOB, results, like)).startswith("These are someone else's")
    past_end_id, unknown_id = custom_ids(crafted)
    assert await refused(ALICE, crafted, past_end_id) == "That's the end of this list."
    assert await refused(ALICE, crafted, unknown_id) == (
        "That movie is not in the catalog; search again."
    )
    for _ in range(KEPT_LISTS):
        await slash(fake, ALICE, "recommend")
    assert await refused(ALICE, results, more) == "This list has expired — ask for a new one."
