"""Movie night on Discord as a channel lives it: the real discord.py against the REST
and gateway stand-in, the real Recommender on the sample index, profiles and lobbies in
the local Redis, on a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
import numpy as np
import pytest

from adapters import movienight_texts as night_texts
from adapters.buttons import ButtonCodec, NightAction, NightButton, StaleButtonError
from adapters.discord.bot import MovieBot, serving
from adapters.discord.cog import MovieCommands
from adapters.discord.movienight import MovieNightCommands
from adapters.discord.movienight_render import NightPayloadButton
from adapters.i18n import LANGUAGES, words
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from core.embedders import OnnxEmbedder
from core.errors import LobbyStateError, NotAMemberError, NotTheOpenerError
from core.index import MovieIndex
from core.languages import Languages
from core.lobbies import ChatRef, Lobby, LobbyState, NightSettings
from core.models import UserRef
from core.movienight import MovieNights
from core.ports import LobbyStore
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from core.subscriptions import Subscriptions
from testing.discord_api import TOKEN, Answer, FakeDiscord
from testing.local_redis import local_redis_store
from testing.waiting import wait_until
from tests.core.stores.conftest import ManualClock

SECRET = b"discord scenario secret, 32 b!!!"
ALICE, BOB, CAROL, DAN = (80351110224678912 + n for n in range(4))
GUILD = 41771983423143937
SETTINGS = NightSettings(start_after=600, vote_for=900, keep_for=7200)
UPDATE_MESSAGE = 7
JSON = dict[str, Any]
EN = words("en")


@dataclass
class Bot:
    """A running bot, with what a test reads and drives beyond the channel."""

    client: MovieBot
    recommender: Recommender
    lobbies: LobbyStore
    night: MovieNightCommands
    codec: ButtonCodec


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store() -> AsyncIterator[RedisProfileStore]:
    async with local_redis_store(f"moviebot-test-{uuid.uuid4().hex[:12]}") as redis_store:
        yield redis_store


@asynccontextmanager
async def running_bot(
    index: MovieIndex, embedder: OnnxEmbedder, store: RedisProfileStore, clock: ManualClock
) -> AsyncIterator[Bot]:
    """The bot with movie night, on the stand-in's gateway until the block ends; another
    one on the same store is the bot after a restart."""
    recommender = Recommender(index, embedder, store, rng=np.random.default_rng(0))
    unlimited = UserRateLimit(limit=1000)
    codec = ButtonCodec(SECRET, index.fingerprint)
    services = ChatServices(
        recommender,
        Subscriptions(store),
        codec,
        unlimited,
        unlimited,
        languages=Languages(store, LANGUAGES),
    )
    lobbies = store.lobbies(clock)
    night = MovieNightCommands(services, MovieNights(recommender, lobbies, SETTINGS, clock=clock))
    client = MovieBot(MovieCommands(services), guild_ready_timeout=0.01, night=night)
    async with serving(client, TOKEN):
        yield Bot(client, recommender, lobbies, night, codec)


@pytest.fixture
async def bot(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
    clock: ManualClock,
) -> AsyncIterator[Bot]:
    async with running_bot(sample_index, local_embedder, store, clock) as running:
        yield running


async def picked(bot: Bot, user: int, *queries: str) -> list[str]:
    """Give ``user`` the first hit of each query as a pick; the labels picked."""
    labels = []
    for query in queries:
        (hit,) = await bot.recommender.search(query, 1)
        await bot.recommender.pick(UserRef("discord", str(user)), hit.movie.movie_id)
        labels.append(hit.movie.label)
    return labels


async def opened(fake: FakeDiscord, user: int = ALICE) -> JSON:
    """``user``'s /movienight in the guild: the lobby's message."""
    interaction_id = fake.slash(user, "movienight", guild_id=GUILD)
    await wait_until(lambda: fake.answers(interaction_id))
    message = fake.message_of(interaction_id)
    assert message is not None
    return message


async def press(fake: FakeDiscord, user: int, message: JSON, custom_id: str) -> list[Answer]:
    """Press a button (the message as shown now); the bot's answers once it has finished:
    an update of the message, a follow-up, or an answer only the presser sees."""
    interaction_id = fake.press(user, fake.message(message["id"]) or message, custom_id)
    return await wait_until(
        lambda: (
            (answers := fake.answers(interaction_id))
            and (answers[-1].kind != "callback" or answers[-1].type in (4, UPDATE_MESSAGE))
            and answers
        )
    )


def button(message: JSON, label: str) -> str:
    return next(
        b["custom_id"]
        for row in message["components"]
        for b in row["components"]
        if b["label"] == label or b["label"].startswith(label)
    )


def labels(message: JSON) -> list[str]:
    return [b["label"] for row in message["components"] for b in row["components"]]


def lobby_id(custom_id: str) -> str:
    """The lobby of ``mn:n<action><lobby>.<option><tag>``."""
    return custom_id[5 : custom_id.index(".")]


def channel_of(message: JSON) -> str:
    return str(message["channel_id"])


async def shown(fake: FakeDiscord, channel: str, holds: Callable[[JSON], bool]) -> JSON:
    found = await wait_until(lambda: [m for m in fake.messages_in(channel) if holds(m)])
    return found[-1]


def has(words: str) -> Callable[[JSON], bool]:
    return lambda message: words in message["content"]


def refused(answers: list[Answer]) -> str:
    """What the presser alone was told, last."""
    answer = answers[-1]
    assert answer.ephemeral
    return answer.content or ""


async def test_a_lobby_of_three_votes_its_way_to_a_winner(bot: Bot, fake: FakeDiscord) -> None:
    seen = [*await picked(bot, ALICE, "die hard", "alien"), *await picked(bot, BOB, "toy story")]
    lobby = await opened(fake)
    channel = channel_of(lobby)
    join = button(lobby, night_texts.JOIN_BUTTON)

    joined = await press(fake, BOB, lobby, join)
    assert joined[0].type == UPDATE_MESSAGE and f"User {BOB}" in (joined[0].content or "")
    assert refused(await press(fake, BOB, lobby, join)) == night_texts.ALREADY_JOINED
    await press(fake, CAROL, lobby, join)
    assert f"User {ALICE}, User {BOB}, User {CAROL}" in current(fake, lobby)["content"]
    start = button(lobby, night_texts.START_BUTTON)
    not_opener = night_texts.night_refusal(EN, NotTheOpenerError())
    assert refused(await press(fake, BOB, lobby, start)) == not_opener

    await press(fake, ALICE, lobby, start)

    vote = await shown(fake, channel, has(night_texts.VOTE_QUESTION))
    started = current(fake, lobby)
    assert (
        started["content"].startswith("🎬 Movie night started with") and not started["components"]
    )
    assert "from the taste of the 2 of you with picks" in vote["content"]
    titles = [embed["title"] for embed in vote["embeds"]]
    assert len(titles) == 5 and not [t for t in titles for label in seen if label in t]
    notes = [embed["description"].splitlines()[-1] for embed in vote["embeds"]]
    assert all("fits" in note or "leans to" in note for note in notes)
    assert labels(vote) == [f"{n} · 0 votes" for n in range(1, 6)] + [night_texts.CLOSE_VOTE_BUTTON]
    (dm,) = await wait_until(lambda: fake.dms(CAROL))
    assert dm["content"] == night_texts.NO_PICKS_FOR_NIGHT and fake.dms(BOB) == []

    second = button(vote, "2 ·")
    await press(fake, BOB, vote, second)
    await press(fake, BOB, vote, second)
    await press(fake, CAROL, vote, second)
    await press(fake, ALICE, vote, button(vote, "1 ·"))
    assert refused(await press(fake, DAN, vote, second)) == night_texts.night_refusal(
        EN, NotAMemberError()
    )
    assert labels(current(fake, vote))[:3] == ["1 · 1 vote", "2 · 2 votes", "3 · 0 votes"]

    close = button(vote, night_texts.CLOSE_VOTE_BUTTON)
    assert refused(await press(fake, BOB, vote, close)) == not_opener
    await press(fake, ALICE, vote, close)

    winner = await shown(fake, channel, has("🏆"))
    second_title = titles[1].split(". ", 1)[1]
    assert winner["content"].startswith(f"🏆 Tonight: {second_title} (2 of 3 votes)")
    closed = current(fake, vote)
    assert not closed["components"] and len(closed["embeds"]) == 5
    assert closed["content"] == f"The vote is closed: {second_title} won."
    watched = button(winner, night_texts.WATCHED_BUTTON)
    answers = await press(fake, CAROL, winner, watched)
    assert answers[-1].content == f"✓ picked: {second_title}" and answers[-1].ephemeral
    carol = await bot.recommender.profile(UserRef("discord", str(CAROL)))
    assert [movie.label for movie in carol.last_picks] == [second_title]


async def test_a_strangers_forged_or_replayed_join_changes_nothing(
    bot: Bot, fake: FakeDiscord
) -> None:
    lobby = await opened(fake)
    channel = channel_of(lobby)
    join = button(lobby, night_texts.JOIN_BUTTON)
    night = lobby_id(join)
    payload = join.removeprefix("mn:")
    tampered = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    other_channel = bot.codec.write_night(
        ChatRef("discord", "555"), NightButton(NightAction.JOIN, night)
    )
    view = discord.ui.View(timeout=None)
    for n, forged in enumerate((tampered, other_channel, "nj1.0garbage", payload)):
        view.add_item(NightPayloadButton(forged, f"press {n}"))
    await bot.client.get_partial_messageable(int(channel)).send("copies", view=view)
    copies = await shown(fake, channel, has("copies"))
    *forgeries, replay = [b["custom_id"] for row in copies["components"] for b in row["components"]]

    stale = night_texts.night_refusal(EN, StaleButtonError())
    for custom_id in forgeries:
        assert refused(await press(fake, DAN, copies, custom_id)) == stale
    assert members(await bot.lobbies.load(night)) == [str(ALICE)]

    await press(fake, BOB, lobby, join)
    await press(fake, ALICE, lobby, button(lobby, night_texts.START_BUTTON))
    await shown(fake, channel, has(night_texts.VOTE_QUESTION))
    started = night_texts.night_refusal(EN, LobbyStateError(LobbyState.VOTING))
    assert refused(await press(fake, DAN, copies, replay)) == started
    assert members(await bot.lobbies.load(night)) == [str(ALICE), str(BOB)]


async def test_a_restart_between_lobby_and_vote_loses_nothing(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
    clock: ManualClock,
) -> None:
    async with running_bot(sample_index, local_embedder, store, clock) as first:
        await picked(first, ALICE, "jaws")
        lobby = await opened(fake)
        await press(fake, BOB, lobby, button(lobby, night_texts.JOIN_BUTTON))

    async with running_bot(sample_index, local_embedder, store, clock):
        await press(fake, ALICE, lobby, button(lobby, night_texts.START_BUTTON))
        vote = await shown(fake, channel_of(lobby), has(night_texts.VOTE_QUESTION))

    async with running_bot(sample_index, local_embedder, store, clock):
        await press(fake, BOB, vote, button(vote, "3 ·"))
        await press(fake, ALICE, vote, button(vote, night_texts.CLOSE_VOTE_BUTTON))
        winner = await shown(fake, channel_of(lobby), has("🏆"))

    third = vote["embeds"][2]["title"].split(". ", 1)[1]
    assert winner["content"].startswith(f"🏆 Tonight: {third} (1 of 1 vote)")


async def test_a_night_starts_and_closes_by_itself_when_its_time_comes(
    bot: Bot, fake: FakeDiscord, clock: ManualClock
) -> None:
    await picked(bot, BOB, "star wars")
    lobby = await opened(fake)
    channel = channel_of(lobby)
    await press(fake, BOB, lobby, button(lobby, night_texts.JOIN_BUTTON))
    await bot.night.run_due(bot.client)
    assert not [m for m in fake.messages_in(channel) if night_texts.VOTE_QUESTION in m["content"]]

    clock.now += SETTINGS.start_after
    await bot.night.run_due(bot.client)

    started = current(fake, lobby)
    assert (
        started["content"].startswith("🎬 Movie night started with") and not started["components"]
    )
    vote = await shown(fake, channel, has(night_texts.VOTE_QUESTION))
    await press(fake, ALICE, vote, button(vote, "5 ·"))
    clock.now += SETTINGS.vote_for
    await bot.night.run_due(bot.client)

    fifth = vote["embeds"][4]["title"].split(". ", 1)[1]
    assert not current(fake, vote)["components"]
    assert fake.messages_in(channel)[-1]["content"].startswith(f"🏆 Tonight: {fifth} (1 of 1 vote)")


async def test_a_lobby_nobody_joined_is_called_off(
    bot: Bot, fake: FakeDiscord, clock: ManualClock
) -> None:
    lobby = await opened(fake)
    clock.now += SETTINGS.start_after
    await bot.night.run_due(bot.client)
    called_off = current(fake, lobby)
    assert called_off["content"] == night_texts.NIGHT_CANCELLED and not called_off["components"]


async def test_members_with_closed_direct_messages_are_told_in_the_channel(
    bot: Bot, fake: FakeDiscord
) -> None:
    fake.close_dms(BOB)
    lobby = await opened(fake)
    await press(fake, BOB, lobby, button(lobby, night_texts.JOIN_BUTTON))
    await press(fake, ALICE, lobby, button(lobby, night_texts.START_BUTTON))

    note = await shown(fake, channel_of(lobby), has("Some of you have no picks yet"))
    assert "use /search" in note["content"]
    assert (await shown(fake, channel_of(lobby), has("None of you has picks yet")))["embeds"]


async def test_movienight_outside_a_server_points_to_channels(bot: Bot, fake: FakeDiscord) -> None:
    interaction_id = fake.slash(ALICE, "movienight")
    (answer,) = await wait_until(lambda: fake.answers(interaction_id))
    assert answer.ephemeral and answer.content == night_texts.NIGHT_IN_CHANNELS


def current(fake: FakeDiscord, message: JSON) -> JSON:
    """``message`` as shown now, edits applied."""
    shown_now = fake.message(message["id"])
    assert shown_now is not None
    return shown_now


def members(lobby: Lobby | None) -> list[str]:
    assert lobby is not None
    return [member.user.user_id for member in lobby.members]
