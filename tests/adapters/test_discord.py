"""The Discord bot as people use it: the real discord.py against a local REST and gateway
stand-in, the real Recommender on the sample index, profiles in the local Redis."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import discord
import numpy as np
import pytest

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.discord import render
from adapters.discord.bot import MovieBot, gateway_problem, serving
from adapters.discord.cog import MovieCommands
from adapters.discord.components import PayloadButton
from adapters.discord.movienight import MovieNightCommands
from adapters.discord.notifier import DiscordNotifier
from adapters.i18n import LANGUAGES, words
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from core.embedders import OnnxEmbedder
from core.errors import MovieBotError
from core.index import MovieIndex
from core.languages import Languages
from core.models import Delivery, Subscription, UserRef
from core.movienight import MovieNights
from core.ports import Embedder, ProfileStore
from core.push import WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.stores.memory_lobbies import MemoryLobbyStore
from core.stores.redis import RedisProfileStore
from core.subscriptions import Subscriptions
from testing.discord_api import TOKEN, Answer, FakeDiscord
from testing.local_redis import local_redis_store
from testing.redis_servers import free_port
from testing.waiting import wait_until

SECRET = b"discord scenario secret, 32 b!!!"
EN = words("en")
ALICE, BOB = 80351110224678912, 80351110224678913
GUILD = 41771983423143937
DEFERRED_MESSAGE = 5
CALLBACK = "callback"
SOMETHING_WENT_WRONG = re.compile(
    r"Something went wrong, please try again\. \(error ([0-9a-f]{8})\)"
)


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
    index: MovieIndex,
    embedder: Embedder,
    store: ProfileStore,
    guild_id: int | None = None,
    requests: int = 1000,
) -> AsyncIterator[MovieBot]:
    """The moviebot Discord client connected to the stand-in until the block ends."""
    recommender = Recommender(index, embedder, store, rng=np.random.default_rng(0))
    codec = ButtonCodec(SECRET, index.fingerprint)
    searches = UserRateLimit(limit=3, window=60)
    limit = UserRateLimit(limit=requests, window=60)
    services = ChatServices(
        recommender,
        Subscriptions(store),
        codec,
        searches,
        limit,
        languages=Languages(store, LANGUAGES),
    )
    cog = MovieCommands(services)
    night = MovieNightCommands(services, MovieNights(recommender, MemoryLobbyStore()))
    bot = MovieBot(cog, guild_id, guild_ready_timeout=0.01, night=night)
    async with serving(bot, TOKEN):
        yield bot


@pytest.fixture
async def bot(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
) -> AsyncIterator[MovieBot]:
    async with running_bot(sample_index, local_embedder, store) as client:
        yield client


async def answered(fake: FakeDiscord, interaction_id: str, count: int = 1) -> list[Answer]:
    """The bot's answers once ``count`` follow-ups are among them."""
    return await wait_until(
        lambda: (
            (answers := fake.answers(interaction_id))
            and len([a for a in answers if a.kind == "followup"]) >= count
            and answers
        ),
        message=lambda: f"answers so far: {fake.answers(interaction_id)}",
    )


async def slash(fake: FakeDiscord, user: int, name: str, **options: Any) -> Answer:
    """Run a slash command in the guild; the bot's first follow-up."""
    interaction_id = fake.slash(user, name, options or None, guild_id=GUILD)
    answers = await answered(fake, interaction_id)
    return next(a for a in answers if a.kind == "followup")


def shown(fake: FakeDiscord, answer: Answer) -> dict[str, Any]:
    """The message an answer sent, as the user sees it now (edits applied)."""
    assert answer.message_id is not None
    message = fake.message(answer.message_id)
    assert message is not None
    return message


async def press(fake: FakeDiscord, user: int, message: dict[str, Any], custom_id: str) -> Any:
    """Press a button; the bot's answers to the press."""
    interaction_id = fake.press(user, message, custom_id)
    await wait_until(lambda: [a for a in fake.answers(interaction_id) if a.kind != CALLBACK])
    return interaction_id


def custom_ids(message: dict[str, Any] | Any) -> list[str]:
    components = message["components"] if isinstance(message, dict) else message.components
    return [button["custom_id"] for row in components for button in row["components"]]


def pick_ids(message: dict[str, Any] | Any) -> list[str]:
    """The custom ids of the pick buttons, one per movie."""
    components = message["components"] if isinstance(message, dict) else message.components
    buttons = [button for row in components for button in row["components"]]
    return [button["custom_id"] for button in buttons if button["label"].startswith("👍")]


def labels(message: dict[str, Any]) -> list[str]:
    return [button["label"] for row in message["components"] for button in row["components"]]


def followup_texts(fake: FakeDiscord, interaction_id: str) -> list[str]:
    return [a.content or "" for a in fake.answers(interaction_id) if a.kind == "followup"]


async def test_slash_commands_are_published_globally(bot: MovieBot, fake: FakeDiscord) -> None:
    names = [command["name"] for command in fake.commands()]
    assert sorted(names) == sorted(command.name for command in render.COMMANDS)
    search = next(command for command in fake.commands() if command["name"] == "search")
    assert search["options"][0]["name"] == "text" and search["options"][0]["required"]


async def test_a_development_guild_gets_the_commands_at_once(
    fake: FakeDiscord, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    async with running_bot(sample_index, local_embedder, MemoryProfileStore(), guild_id=GUILD):
        assert {c["name"] for c in fake.commands(GUILD)} == {c.name for c in render.COMMANDS}
        assert fake.commands() == []


async def test_search_pick_recommend_journey(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore, sample_index: MovieIndex
) -> None:
    results = await slash(fake, ALICE, "search", text="a cop fights terrorists in a skyscraper")

    assert not results.ephemeral and len(results.embeds) == 5
    assert all(embed["title"].startswith(f"{n}. ") for n, embed in enumerate(results.embeds, 1))
    ids = custom_ids(results)
    assert len(ids) == 5 * 3 + 1 and all(i.startswith("mb:") and len(i) <= 100 for i in ids)
    assert labels(shown(fake, results))[-1] == "more ▸"

    message = shown(fake, results)
    pick = await press(fake, ALICE, message, ids[0])

    assert followup_texts(fake, pick)[0].startswith("✓ picked: ")
    assert all(a.ephemeral for a in fake.answers(pick) if a.kind == "followup")
    assert labels(shown(fake, results))[0].startswith("✓ 👍 1.")
    profile = await store.load(UserRef("discord", str(ALICE)))
    assert profile is not None and len(profile.picked) == 1
    picked_title = sample_index.movie(profile.picked[0])
    assert picked_title is not None and picked_title.label in results.embeds[0]["title"]

    recommended = await slash(fake, ALICE, "recommend")
    titles = [embed["title"] for embed in recommended.embeds]
    assert titles and not any(picked_title.label in title for title in titles)
    assert "which you picked" in recommended.embeds[0]["description"]


async def test_a_press_on_someone_elses_results_touches_no_profile(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    results = await slash(fake, ALICE, "search", text="space adventure")

    interaction_id = fake.press(BOB, shown(fake, results), custom_ids(results)[0])
    answers = await wait_until(lambda: fake.answers(interaction_id))

    assert answers[0].type == 4 and answers[0].ephemeral
    assert answers[0].content == "These are someone else's picks — run /search yourself."
    assert await store.load(UserRef("discord", str(ALICE))) is None
    assert await store.load(UserRef("discord", str(BOB))) is None


async def test_a_forged_or_outdated_button_changes_nothing(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore, sample_index: MovieIndex
) -> None:
    alice = UserRef("discord", str(ALICE))
    movie = sample_index.movies[0].movie_id
    valid = ButtonCodec(SECRET, sample_index.fingerprint).write(alice, Button(ButtonAction.PICK, 1))
    outdated = ButtonCodec(SECRET, "an older index").write(alice, Button(ButtonAction.PICK, movie))
    tampered = valid.replace("2p1.", "2pzz.")  # movie 1,295 under the tag of movie 1
    view = discord.ui.View(timeout=None)
    for n, payload in enumerate((outdated, tampered)):
        view.add_item(PayloadButton(payload, f"forged {n}"))
    view.add_item(PayloadButton("1p1.not-a-payload", "garbage"))
    channel = await bot.create_dm(discord.Object(ALICE))
    await channel.send("forged", view=view)
    message = fake.dms(ALICE)[-1]

    for custom_id in custom_ids(message):
        interaction_id = fake.press(ALICE, message, custom_id)
        answers = await wait_until(lambda i=interaction_id: fake.answers(i))
        assert answers[0].content == "This list is out of date — search again."
        assert answers[0].ephemeral

    assert await store.load(alice) is None


async def test_a_replayed_press_is_applied_once(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    results = await slash(fake, ALICE, "search", text="romantic comedy in paris")
    pick = await press(fake, ALICE, shown(fake, results), pick_ids(results)[1])
    before = len(fake.calls())

    fake.redeliver(pick)
    await wait_until(lambda: [c for c in fake.calls()[before:] if c.status == 400])

    rejected = [c for c in fake.calls()[before:] if c.route == "interaction_callback"]
    assert [c.status for c in rejected] == [400]
    profile = await store.load(UserRef("discord", str(ALICE)))
    assert profile is not None and len(profile.picked) == 1
    assert len(followup_texts(fake, pick)) == 1


class SlowEmbedder:
    """The local model, one second slower per query."""

    def __init__(self, embedder: OnnxEmbedder) -> None:
        self._embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim

    def embed_documents(self, texts: Any) -> Any:
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> Any:
        time.sleep(1.0)
        return self._embedder.embed_query(text)


async def test_a_slow_search_is_deferred_first_then_answered(
    fake: FakeDiscord, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    async with running_bot(sample_index, SlowEmbedder(local_embedder), MemoryProfileStore()):
        interaction_id = fake.slash(ALICE, "search", {"text": "haunted house"}, guild_id=GUILD)
        first, results = await answered(fake, interaction_id)

    assert first.kind == CALLBACK and first.type == DEFERRED_MESSAGE
    assert first.at < results.at and results.at - first.at >= 1.0
    assert len(results.embeds) == 5


async def test_redis_down_gets_a_clear_answer(
    fake: FakeDiscord, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    dead = RedisProfileStore.from_url(
        f"redis://127.0.0.1:{free_port()}/0", timeout=0.3, connect_timeout=0.3
    )
    async with running_bot(sample_index, local_embedder, dead):
        answer = await slash(fake, ALICE, "recommend")
        results = await slash(fake, ALICE, "search", text="pirates")
        pick = await press(fake, ALICE, shown(fake, results), custom_ids(results)[0])
    await dead.close()

    assert answer.content == EN.gettext(texts.UNAVAILABLE) and answer.ephemeral
    assert followup_texts(fake, pick) == [EN.gettext(texts.UNAVAILABLE)]


async def test_personal_answers_are_ephemeral(bot: MovieBot, fake: FakeDiscord) -> None:
    for name in ("profile", "undo", "subscribe", "unsubscribe"):
        answer = await slash(fake, ALICE, name)
        assert answer.ephemeral, name
    help_id = fake.slash(ALICE, "help", guild_id=GUILD)
    (help_answer,) = await wait_until(lambda: fake.answers(help_id))
    assert help_answer.ephemeral and "/search" in help_answer.embeds[0]["description"]


async def test_bad_input_gets_a_short_answer_and_changes_nothing(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    alice = UserRef("discord", str(ALICE))

    assert (await slash(fake, ALICE, "undo")).content == "Nothing to undo."
    unknown_zone = await slash(fake, ALICE, "subscribe", timezone="Mars/Olympus_Mons")
    assert unknown_zone.content.startswith("Unknown time zone")
    nothing_id = fake.slash(ALICE, "search", {"text": "\u200b\u200b"}, guild_id=GUILD)
    (nothing,) = [a for a in await answered(fake, nothing_id) if a.kind == "followup"]
    assert nothing.ephemeral and nothing.content.startswith("Type a few words")
    assert fake.message_of(nothing_id) is None  # the public loading message is gone

    assert await store.load(alice) is None and await store.subscription(alice) is None


async def test_searches_beyond_the_limit_are_refused_at_once(
    bot: MovieBot, fake: FakeDiscord
) -> None:
    for _ in range(3):
        await slash(fake, ALICE, "search", text="western")

    interaction_id = fake.slash(ALICE, "search", {"text": "western"}, guild_id=GUILD)
    (answer,) = await wait_until(lambda: fake.answers(interaction_id))

    assert answer.type == 4 and answer.ephemeral and answer.content == EN.gettext(texts.SLOW_DOWN)


async def test_every_command_and_button_beyond_the_limit_is_refused(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
) -> None:
    async with running_bot(sample_index, local_embedder, store, GUILD, requests=2):
        results = shown(fake, await slash(fake, ALICE, "search", text="western"))
        await slash(fake, ALICE, "recommend")
        refused = fake.slash(ALICE, "profile", {}, guild_id=GUILD)
        (answer,) = await wait_until(lambda: fake.answers(refused))
        pressed = fake.press(ALICE, results, custom_ids(results)[0])
        (press_answer,) = await wait_until(lambda: fake.answers(pressed))

    assert answer.ephemeral and answer.content == EN.gettext(texts.SLOW_DOWN)
    assert press_answer.ephemeral and press_answer.content == EN.gettext(texts.SLOW_DOWN)
    assert await store.load(UserRef("discord", str(ALICE))) is None


async def test_subscribe_then_unsubscribe(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    answer = await slash(fake, ALICE, "subscribe", day=0, hour=7, timezone="Europe/Berlin")

    assert answer.content.startswith("Subscribed: every Monday at 07:00 (Europe/Berlin)")
    alice = UserRef("discord", str(ALICE))
    subscription = await store.subscription(alice)
    assert subscription is not None and subscription.weekday == 0
    assert (await slash(fake, ALICE, "unsubscribe")).content == texts.unsubscribed(EN, True)
    assert await store.subscription(alice) is None


async def test_forget_asks_first_then_forgets(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    results = await slash(fake, ALICE, "search", text="dinosaurs")
    await press(fake, ALICE, shown(fake, results), custom_ids(results)[0])
    alice = UserRef("discord", str(ALICE))
    assert await store.load(alice) is not None

    question_id = fake.slash(ALICE, "forget", guild_id=GUILD)
    (question,) = await wait_until(lambda: fake.answers(question_id))
    assert question.ephemeral and question.content == EN.gettext(texts.FORGET_QUESTION)
    confirm = fake.press(ALICE, fake.message_of(question_id), custom_ids(question)[0])
    await wait_until(lambda: [a for a in fake.answers(confirm) if a.kind == "edit"])

    assert await store.load(alice) is None
    after = fake.message_of(question_id)
    assert (
        after is not None
        and after["content"] == EN.gettext(texts.FORGOTTEN)
        and not after["components"]
    )


async def test_weekly_picks_by_dm_and_closed_dms(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore, sample_index: MovieIndex
) -> None:
    notifier = DiscordNotifier(
        bot, ButtonCodec(SECRET, sample_index.fingerprint), Languages(store, LANGUAGES)
    )
    alice, bob = UserRef("discord", str(ALICE)), UserRef("discord", str(BOB))
    recommender = Recommender(sample_index, OnnxEmbedder(), store)
    picks = recommender.starters.recommendations(3)

    assert await notifier.send_picks(alice, picks, "2026-W48:discord:1") is Delivery.SENT
    retried = await notifier.send_picks(alice, picks, "2026-W48:discord:1")
    assert retried is Delivery.SENT  # the same push again: Discord keeps the first by nonce
    fake.close_dms(BOB)
    assert await notifier.send_picks(bob, picks, "2026-W48:discord:2") is Delivery.GONE

    (dm,) = fake.dms(ALICE)
    assert dm["content"] == f"**{EN.gettext(texts.WEEKLY_TITLE)}**" and len(dm["embeds"]) == 3
    assert fake.dms(BOB) == []
    pick = await press(fake, ALICE, dm, custom_ids(dm)[0])
    assert followup_texts(fake, pick)[0].startswith("✓ picked: ")
    profile = await store.load(alice)
    assert profile is not None and profile.picked == (picks[0].movie.movie_id,)


async def test_a_wrong_token_is_a_clear_error(
    fake: FakeDiscord, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    store = MemoryProfileStore()
    recommender = Recommender(sample_index, local_embedder, store)
    codec = ButtonCodec(SECRET, "f")
    languages = Languages(store, LANGUAGES)
    cog = MovieCommands(ChatServices(recommender, Subscriptions(store), codec, languages=languages))

    with pytest.raises(MovieBotError, match="MOVIEBOT_DISCORD_TOKEN"):
        async with serving(MovieBot(cog), "not.the.token"):
            pass


async def test_the_token_never_reaches_the_log(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(sample_index, local_embedder, MemoryProfileStore()):
        await slash(fake, ALICE, "search", text="heist")

    assert "discord" in caplog.text and TOKEN not in caplog.text


async def test_the_weekly_push_dms_subscribers_and_drops_closed_dms(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore, sample_index: MovieIndex
) -> None:
    alice, bob = UserRef("discord", str(ALICE)), UserRef("discord", str(BOB))
    for user in (alice, bob):
        await store.set_subscription(user, Subscription(4, 18))
    fake.close_dms(BOB)
    recommender = Recommender(sample_index, OnnxEmbedder(), store)
    notifier = DiscordNotifier(
        bot, ButtonCodec(SECRET, sample_index.fingerprint), Languages(store, LANGUAGES)
    )
    push = WeeklyPush(recommender, store, store.push_ledger(), [notifier])

    report = await push.run(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))

    assert (report.sent, report.gone) == (1, 1)
    (dm,) = fake.dms(ALICE)
    assert len(dm["embeds"]) == 3 and len(pick_ids(dm)) == 3 and len(custom_ids(dm)) == 9
    assert await store.subscription(bob) is None
    assert await store.subscription(alice) == Subscription(4, 18)


class BrokenStore(MemoryProfileStore):
    """A store with a bug: reading or changing a profile raises what nobody foresaw."""

    async def load(self, user: UserRef) -> Any:
        raise RuntimeError("a bug in the store")

    async def update(self, user: UserRef, change: Any, idempotency_key: str | None = None) -> Any:
        raise RuntimeError("a bug in the store")


async def test_an_unexpected_error_resolves_the_interaction_with_its_logged_id(
    fake: FakeDiscord,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_bot(sample_index, local_embedder, BrokenStore()):
        recommend_id = fake.slash(ALICE, "recommend", guild_id=GUILD)
        recommended = next(a for a in await answered(fake, recommend_id) if a.kind == "followup")
        results = await slash(fake, ALICE, "search", text="pirates")
        pick = await press(fake, ALICE, shown(fake, results), custom_ids(results)[0])
        (pick_answer,) = await wait_until(lambda: followup_texts(fake, pick))

    ids = [SOMETHING_WENT_WRONG.fullmatch(t) for t in (recommended.content or "", pick_answer)]
    assert all(ids), (recommended.content, pick_answer)
    loading = fake.message_of(recommend_id)
    assert loading is not None and loading["content"] == recommended.content
    for error_id in (match.group(1) for match in ids if match):
        (record,) = [r for r in caplog.records if error_id in r.getMessage()]
        assert record.exc_info is not None and "a bug in the store" in str(record.exc_info[1])


async def test_subscribe_in_a_server_is_confirmed_by_dm_or_says_dms_are_closed(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    answer = await slash(fake, ALICE, "subscribe", day=0, hour=7)
    assert answer.ephemeral and answer.content.endswith(
        EN.gettext(texts.SENT_PRIVATELY["subscribe"])
    )
    (dm,) = fake.dms(ALICE)
    assert dm["content"].startswith("Subscribed: every Monday at 07:00 (UTC)")

    fake.close_dms(BOB)
    refused = await slash(fake, BOB, "subscribe")
    assert refused.ephemeral and refused.content == EN.gettext(texts.DIRECT_MESSAGES_CLOSED)
    assert await store.subscription(UserRef("discord", str(BOB))) is None


async def test_a_user_the_push_could_not_reach_is_told_once(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore, sample_index: MovieIndex
) -> None:
    bob = UserRef("discord", str(BOB))
    await store.set_subscription(bob, Subscription(4, 18))
    fake.close_dms(BOB)
    recommender = Recommender(sample_index, OnnxEmbedder(), store)
    notifier = DiscordNotifier(
        bot, ButtonCodec(SECRET, sample_index.fingerprint), Languages(store, LANGUAGES)
    )
    push = WeeklyPush(recommender, store, store.push_ledger(), [notifier])
    assert (await push.run(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))).gone == 1

    first = fake.slash(BOB, "recommend", guild_id=GUILD)
    answers = await answered(fake, first, count=2)
    (told,) = [a for a in answers if a.kind == "followup" and a.ephemeral]
    assert told.content.startswith("Your weekly picks stopped")
    assert "allow direct messages" in told.content
    second = fake.slash(BOB, "recommend", guild_id=GUILD)
    await answered(fake, second)
    assert len(followup_texts(fake, second)) == 1


async def test_the_gateway_connection_is_reported_for_readiness(bot: MovieBot) -> None:
    assert await gateway_problem(bot) is None

    await bot.close()

    assert await gateway_problem(bot) == "discord not connected"
