"""Movie night on Telegram as a group lives it: the real python-telegram-bot against the
Bot API stand-in, the real Recommender on the sample index, profiles and lobbies in the
local Redis, on a clock the test moves."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from telegram.ext import Application

from adapters import movienight_texts as night_texts
from adapters.buttons import ButtonCodec, StaleButtonError
from adapters.i18n import LANGUAGES, words
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from adapters.telegram.bot import build_application, serving
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.movienight import TelegramMovieNight
from core.embedders import OnnxEmbedder
from core.errors import LobbyGoneError, LobbyStateError, NotAMemberError, NotTheOpenerError
from core.index import MovieIndex
from core.languages import Languages
from core.lobbies import Lobby, LobbyState, NightSettings
from core.models import UserRef
from core.movienight import MovieNights
from core.ports import LobbyStore
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from core.subscriptions import Subscriptions
from testing.local_redis import local_redis_store
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until
from tests.core.stores.conftest import ManualClock

TOKEN = "123456:TEST-token"
SECRET = b"telegram scenario secret, 32 b!!"
ALICE, BOB, CAROL, DAN = 1001, 1002, 1003, 1004
GROUP, OTHER_GROUP = -100200300, -100400500
SETTINGS = NightSettings(start_after=600, vote_for=900, keep_for=7200)
JSON = dict[str, Any]
EN = words("en")


@dataclass
class Bot:
    """A running bot, with what a test reads and drives beyond the chat."""

    recommender: Recommender
    lobbies: LobbyStore
    night: TelegramMovieNight
    application: Application  # type: ignore[type-arg]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
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
    fake: FakeTelegram,
    index: MovieIndex,
    embedder: OnnxEmbedder,
    store: RedisProfileStore,
    clock: ManualClock,
) -> AsyncIterator[Bot]:
    """The bot with movie night, polling the stand-in until the block ends; another one
    on the same store is the bot after a restart."""
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
    night = TelegramMovieNight(services, MovieNights(recommender, lobbies, SETTINGS, clock=clock))
    handlers = TelegramHandlers(services)
    application = build_application(TOKEN, handlers, base_url=f"{fake.url}/bot", night=night)
    async with serving(application, poll_timeout=1):
        yield Bot(recommender, lobbies, night, application)


@pytest.fixture
async def bot(
    fake: FakeTelegram,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
    clock: ManualClock,
) -> AsyncIterator[Bot]:
    async with running_bot(fake, sample_index, local_embedder, store, clock) as running:
        yield running


async def picked(bot: Bot, user: int, *queries: str) -> list[str]:
    """Give ``user`` the first hit of each query as a pick, as their own searches would;
    the labels of the movies picked."""
    labels = []
    for query in queries:
        (hit,) = await bot.recommender.search(query, 1)
        await bot.recommender.pick(UserRef("telegram", str(user)), hit.movie.movie_id)
        labels.append(hit.movie.label)
    return labels


async def new_message(fake: FakeTelegram, chat: int, holds: Callable[[JSON], bool]) -> JSON:
    """The first message of the bot in ``chat`` for which ``holds`` is true, once there."""
    found = await wait_until(lambda: [m for m in fake.messages(chat) if holds(m)])
    return found[0]


def text_has(words: str) -> Callable[[JSON], bool]:
    return lambda message: words in message.get("text", "")


async def press(fake: FakeTelegram, user: int, message: JSON, data: str) -> str:
    """Press a button; the text of the bot's answer to the callback."""
    query_id = fake.press(user, message, data)
    answered = await wait_until(
        lambda: [
            c
            for c in fake.calls("answerCallbackQuery")
            if c.params.get("callback_query_id") == query_id
        ]
    )
    return str(answered[0].params.get("text", ""))


def button(message: JSON, label: str) -> str:
    return next(
        b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == label
    )


def lobby_id(payload: str) -> str:
    """The lobby a movie night's payload names: ``n<action><lobby>.<option><tag>``."""
    return payload[2 : payload.index(".")]


async def opened(fake: FakeTelegram, group: int = GROUP) -> JSON:
    """Alice's /movienight in ``group``: the lobby's message."""
    fake.type_text(ALICE, "/movienight@moviebot_test", chat_id=group, chat_type="supergroup")
    return await new_message(fake, group, text_has("Movie night!"))


async def stored(bot: Bot, lobby: str, holds: Callable[[Lobby], bool]) -> Lobby:
    """The stored lobby once ``holds`` is true of it (poll answers get no reply to wait
    for)."""
    deadline = time.monotonic() + 10
    while True:
        found = await bot.lobbies.load(lobby)
        if found is not None and holds(found):
            return found
        assert time.monotonic() < deadline, f"lobby {lobby} is still {found}"
        await asyncio.sleep(0.02)


async def the_vote(fake: FakeTelegram, bot: Bot, night: str) -> JSON:
    """The poll's message, once the bot has recorded the poll (people vote a moment after
    a poll appears; the bot records it as it is sent)."""
    poll = await new_message(fake, GROUP, lambda message: "poll" in message)
    await stored(bot, night, lambda lobby: lobby.poll_id == poll["poll"]["id"])
    return poll


def the_poll(fake: FakeTelegram, group: int = GROUP) -> JSON:
    return next(message for message in fake.messages(group) if "poll" in message)


async def test_a_lobby_of_three_votes_its_way_to_a_winner(bot: Bot, fake: FakeTelegram) -> None:
    seen = [*await picked(bot, ALICE, "die hard", "alien"), *await picked(bot, BOB, "toy story")]
    lobby_message = await opened(fake)
    assert "In: User1001" in lobby_message["text"]
    join = button(lobby_message, night_texts.JOIN_BUTTON)
    night = lobby_id(join)

    assert await press(fake, BOB, lobby_message, join) == night_texts.JOINED
    assert await press(fake, BOB, lobby_message, join) == night_texts.ALREADY_JOINED
    assert await press(fake, CAROL, lobby_message, join) == night_texts.JOINED
    await new_message(fake, GROUP, text_has("In: User1001, User1002, User1003"))
    start = button(lobby_message, night_texts.START_BUTTON)
    not_opener = night_texts.night_refusal(EN, NotTheOpenerError())
    assert await press(fake, BOB, lobby_message, start) == not_opener

    await press(fake, ALICE, lobby_message, start)

    listed = await new_message(fake, GROUP, text_has("Tonight's picks"))
    poll = await the_vote(fake, bot, night)
    started = fake.messages(GROUP)[0]
    assert started["text"] == "🎬 Movie night started with User1001, User1002, User1003."
    assert "reply_markup" not in started
    assert "from the taste of the 2 of you with picks" in listed["text"]
    assert listed["text"].count("<i>") == 5 and "of 2" in listed["text"]
    assert not [label for label in seen if f"{label}</b>" in listed["text"]]
    assert not poll["poll"]["is_anonymous"] and len(poll["poll"]["options"]) == 5
    told = await wait_until(lambda: fake.messages(CAROL))
    assert told[0]["text"] == night_texts.NO_PICKS_FOR_NIGHT
    assert fake.messages(ALICE) == [] and fake.messages(BOB) == []

    poll_id = poll["poll"]["id"]
    fake.answer_poll(BOB, poll_id, [1])
    fake.answer_poll(BOB, poll_id, [1])
    fake.answer_poll(CAROL, poll_id, [1])
    fake.answer_poll(DAN, poll_id, [3])  # a stranger: Telegram shows it, the bot ignores it
    fake.answer_poll(ALICE, poll_id, [0])
    voted = await stored(bot, night, lambda lobby: len(lobby.votes) == 3)
    assert voted.counts() == (1, 2, 0, 0, 0)

    close = button(poll, night_texts.CLOSE_VOTE_BUTTON)
    assert await press(fake, BOB, poll, close) == not_opener
    await press(fake, ALICE, poll, close)

    winner = await new_message(fake, GROUP, text_has("🏆"))
    second = poll["poll"]["options"][1]["text"].split(". ", 1)[1]
    assert winner["text"].startswith(f"🏆 Tonight: {second} (2 of 3 votes)")
    assert the_poll(fake)["poll"]["is_closed"] and "reply_markup" not in the_poll(fake)
    watched = button(winner, night_texts.WATCHED_BUTTON)
    assert await press(fake, CAROL, winner, watched) == f"✓ picked: {second}"
    assert await press(fake, CAROL, winner, watched) == f"already picked: {second}"
    assert await press(fake, DAN, winner, watched) == night_texts.night_refusal(
        EN, NotAMemberError()
    )
    carol = await bot.recommender.profile(UserRef("telegram", str(CAROL)))
    assert [movie.label for movie in carol.last_picks] == [second]


async def test_a_strangers_forged_or_replayed_join_changes_nothing(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    lobby_message = await opened(fake)
    join = button(lobby_message, night_texts.JOIN_BUTTON)
    elsewhere = await opened(fake, OTHER_GROUP)
    other_join = button(elsewhere, night_texts.JOIN_BUTTON)
    stale = night_texts.night_refusal(EN, StaleButtonError())

    forged = join[:-1] + ("A" if join[-1] != "A" else "B")
    assert await press(fake, DAN, lobby_message, forged) == stale
    assert await press(fake, DAN, lobby_message, other_join) == stale  # copied from another chat
    assert await press(fake, DAN, lobby_message, "nj" + "z" * 10 + ".0" + "x" * 17) == stale
    for night in (lobby_id(join), lobby_id(other_join)):
        assert len((await stored(bot, night, lambda lobby: True)).members) == 1

    await press(fake, BOB, lobby_message, join)
    await press(fake, ALICE, lobby_message, button(lobby_message, night_texts.START_BUTTON))
    await new_message(fake, GROUP, lambda message: "poll" in message)
    started = night_texts.night_refusal(EN, LobbyStateError(LobbyState.VOTING))
    assert await press(fake, DAN, lobby_message, join) == started  # replayed after the start
    members = (await stored(bot, lobby_id(join), lambda lobby: True)).members
    assert [member.user.user_id for member in members] == [str(ALICE), str(BOB)]

    clock.now += SETTINGS.keep_for
    gone = night_texts.night_refusal(EN, LobbyGoneError("any"))
    assert await press(fake, DAN, elsewhere, other_join) == gone  # replayed once expired


async def test_a_restart_between_lobby_and_vote_loses_nothing(
    fake: FakeTelegram,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
    clock: ManualClock,
) -> None:
    async with running_bot(fake, sample_index, local_embedder, store, clock) as first:
        await picked(first, ALICE, "jaws")
        lobby_message = await opened(fake)
        await press(fake, BOB, lobby_message, button(lobby_message, night_texts.JOIN_BUTTON))

    night = lobby_id(button(lobby_message, night_texts.JOIN_BUTTON))
    async with running_bot(fake, sample_index, local_embedder, store, clock) as second:
        await press(fake, ALICE, lobby_message, button(lobby_message, night_texts.START_BUTTON))
        poll = await the_vote(fake, second, night)

    async with running_bot(fake, sample_index, local_embedder, store, clock) as third:
        fake.answer_poll(BOB, poll["poll"]["id"], [2])
        await stored(third, night, lambda lobby: len(lobby.votes) == 1)
        await press(fake, ALICE, poll, button(poll, night_texts.CLOSE_VOTE_BUTTON))
        winner = await new_message(fake, GROUP, text_has("🏆"))

    third_option = poll["poll"]["options"][2]["text"].split(". ", 1)[1]
    assert winner["text"].startswith(f"🏆 Tonight: {third_option} (1 of 1 vote)")


async def test_a_night_starts_and_closes_by_itself_when_its_time_comes(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    await picked(bot, BOB, "star wars")
    lobby_message = await opened(fake)
    await press(fake, BOB, lobby_message, button(lobby_message, night_texts.JOIN_BUTTON))
    await opened(fake, OTHER_GROUP)
    await bot.night.run_due(bot.application.bot)
    assert not [message for message in fake.messages(GROUP) if "poll" in message]

    clock.now += SETTINGS.start_after
    await bot.night.run_due(bot.application.bot)

    assert fake.messages(GROUP)[0]["text"].startswith("🎬 Movie night started with")
    poll = the_poll(fake)
    assert fake.messages(OTHER_GROUP)[0]["text"] == night_texts.NIGHT_CANCELLED
    assert lobby_message["message_id"] == fake.messages(GROUP)[0]["message_id"]
    assert "reply_markup" not in fake.messages(OTHER_GROUP)[0]

    fake.answer_poll(ALICE, poll["poll"]["id"], [4])
    night = lobby_id(button(lobby_message, night_texts.JOIN_BUTTON))
    await stored(bot, night, lambda lobby: len(lobby.votes) == 1)
    clock.now += SETTINGS.vote_for
    await bot.night.run_due(bot.application.bot)

    fifth = poll["poll"]["options"][4]["text"].split(". ", 1)[1]
    assert the_poll(fake)["poll"]["is_closed"]
    assert fake.messages(GROUP)[-1]["text"].startswith(f"🏆 Tonight: {fifth} (1 of 1 vote)")


async def test_members_who_never_opened_a_private_chat_are_told_in_the_group(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.never_started(BOB)
    lobby_message = await opened(fake)
    await press(fake, BOB, lobby_message, button(lobby_message, night_texts.JOIN_BUTTON))
    await press(fake, ALICE, lobby_message, button(lobby_message, night_texts.START_BUTTON))

    note = await new_message(fake, GROUP, text_has("Some of you have no picks yet"))
    assert "https://t.me/moviebot_test" in note["text"]
    listed = await new_message(fake, GROUP, text_has("None of you has picks yet"))
    assert "<i>fits" not in listed["text"]  # no fit line (an overview may say "profits")


async def test_movienight_in_a_private_chat_points_to_groups(bot: Bot, fake: FakeTelegram) -> None:
    fake.type_text(ALICE, "/movienight")
    reply = await new_message(fake, ALICE, lambda message: True)
    assert reply["text"] == night_texts.NIGHT_IN_GROUPS
