"""The Telegram bot as people use it: the real python-telegram-bot against a local
Bot API stand-in, the real Recommender on the sample index, a real store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from telegram.ext import AIORateLimiter, ExtBot

from adapters import texts
from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES, words
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from adapters.telegram.bot import build_application, serving
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.notifier import TelegramNotifier
from adapters.telegram.webhook import MAX_BODY_BYTES, Webhook
from core.embedders import OnnxEmbedder
from core.errors import EmbedderError
from core.index import MovieIndex
from core.languages import Languages
from core.models import Subscription, UserRef
from core.ports import ProfileStore
from core.push import WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from core.subscriptions import Subscriptions
from testing.redis_servers import RedisServer, free_port
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until, wait_until_sync

TOKEN = "123456:TEST-token"
MOVIEBOT = str(Path(sys.executable).with_name("moviebot"))
DEPLOY_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "redis.conf"
SECRET = b"telegram scenario secret, 32 b!!"
ALICE, BOB, GROUP = 1001, 1002, -100200300
SOMETHING_WENT_WRONG = re.compile(
    r"Something went wrong, please try again\. \(error ([0-9a-f]{8})\)"
)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def store() -> MemoryProfileStore:
    return MemoryProfileStore()


@asynccontextmanager
async def running_bot(
    fake: FakeTelegram, index: MovieIndex, embedder: OnnxEmbedder, store: ProfileStore
) -> AsyncIterator[Recommender]:
    """The moviebot Application polling the stand-in until the block ends."""
    recommender = Recommender(index, embedder, store, rng=np.random.default_rng(0))
    codec = ButtonCodec(SECRET, index.fingerprint)
    searches = UserRateLimit(limit=5, window=60)
    languages = Languages(store, LANGUAGES)
    services = ChatServices(recommender, Subscriptions(store), codec, searches, languages=languages)
    handlers = TelegramHandlers(services)
    application = build_application(TOKEN, handlers, base_url=f"{fake.url}/bot")
    async with serving(application, poll_timeout=1):
        yield recommender


@pytest.fixture
async def bot(
    fake: FakeTelegram,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: MemoryProfileStore,
) -> AsyncIterator[Recommender]:
    async with running_bot(fake, sample_index, local_embedder, store) as recommender:
        yield recommender


async def reply_to(fake: FakeTelegram, chat_id: int, count_before: int) -> dict[str, Any]:
    """The next message the bot sends to ``chat_id``."""
    await wait_until(lambda: len(fake.messages(chat_id)) > count_before)
    return fake.messages(chat_id)[count_before]


async def say(fake: FakeTelegram, user: int, text: str, **chat: Any) -> dict[str, Any]:
    chat_id = chat.get("chat_id", user)
    before = len(fake.messages(chat_id))
    fake.type_text(user, text, **chat)
    return await reply_to(fake, chat_id, before)


async def press(fake: FakeTelegram, user: int, message: dict[str, Any], data: str) -> str:
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


def buttons(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return message["reply_markup"]["inline_keyboard"]


def picks(message: dict[str, Any]) -> list[str]:
    """The callback data of the pick buttons, one per movie."""
    return [b["callback_data"] for row in buttons(message) for b in row if b["text"][0] == "👍"]


async def test_commands_are_published(bot: Recommender, fake: FakeTelegram) -> None:
    await wait_until(lambda: fake.commands)
    names = [command["command"] for command in fake.commands]
    assert names == [
        "start",
        "search",
        "recommend",
        "similar",
        "explore",
        "profile",
        "undo",
        "forget",
        "subscribe",
        "unsubscribe",
        "movienight",
        "language",
        "help",
    ]
    help_text = (await say(fake, ALICE, "/help"))["text"]
    assert all(f"/{name}" in help_text for name in names)


async def test_search_pick_recommend_explore_undo_forget(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    alice = UserRef("telegram", str(ALICE))
    results = await say(fake, ALICE, "/search die hard")
    assert "1. Die Hard (1988)" in results["text"]
    pick_die_hard = buttons(results)[0][0]["callback_data"]

    assert await press(fake, ALICE, results, pick_die_hard) == "✓ picked: Die Hard (1988)"
    await wait_until(lambda: buttons(fake.messages(ALICE)[-1])[0][0]["text"].startswith("✓"))
    assert await press(fake, ALICE, results, pick_die_hard) == "already picked: Die Hard (1988)"
    profile = await store.load(alice)
    assert profile is not None and len(profile.picked) == 1

    recommended = (await say(fake, ALICE, "/recommend"))["text"]
    assert (
        "Die Hard 2" in recommended and "close to Die Hard (1988), which you picked" in recommended
    )
    assert "Die Hard (1988)</b>" not in recommended
    explored = (await say(fake, ALICE, "/explore 0.5"))["text"]
    assert explored.startswith("<b>Exploring") and "exploring (angle 0.5)" in explored

    assert (await say(fake, ALICE, "/undo"))["text"] == "↶ undid pick: Die Hard (1988)"
    assert (await store.load(alice)).picked == ()  # type: ignore[union-attr]

    assert await press(fake, ALICE, results, pick_die_hard) == "✓ picked: Die Hard (1988)"
    question = await say(fake, ALICE, "/forget")
    confirm = buttons(question)[0][0]["callback_data"]
    assert await press(fake, ALICE, question, confirm) == "Forgotten."
    assert await store.load(alice) is None


async def test_plain_text_in_private_is_a_search(bot: Recommender, fake: FakeTelegram) -> None:
    reply = await say(fake, ALICE, "a great white shark terrorizes a beach town")
    assert "Jaws (1975)" in reply["text"]


async def test_a_forged_button_changes_nothing(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    results = await say(fake, ALICE, "/search jaws")
    real = buttons(results)[0][0]["callback_data"]
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    assert await press(fake, ALICE, results, forged) == "This list is out of date — search again."
    assert (
        await press(fake, ALICE, results, "1p9.garbage")
        == "This list is out of date — search again."
    )
    assert await store.load(UserRef("telegram", str(ALICE))) is None


async def test_another_users_button_in_a_group(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    results = await say(
        fake, ALICE, "/search@moviebot_test alien", chat_id=GROUP, chat_type="group"
    )
    assert "Alien" in results["text"]
    pick = buttons(results)[0][0]["callback_data"]
    answer = await press(fake, BOB, results, pick)
    assert answer == "These are someone else's picks — run /search yourself."
    assert await store.load(UserRef("telegram", str(BOB))) is None
    assert await store.load(UserRef("telegram", str(ALICE))) is None


async def test_long_and_hostile_queries(bot: Recommender, fake: FakeTelegram) -> None:
    long_reply = await say(fake, ALICE, "/search " + "space pirates " * 150)
    assert long_reply["text"].startswith("<b>Search results</b>") and len(long_reply["text"]) < 4096
    empty = await say(fake, ALICE, "/search")
    assert empty["text"] == "Type a few words to search for, for example: space adventure"
    bad = await say(fake, ALICE, "/explore nan")
    assert bad["text"] == "Strength is a number from 0 to 1, like /explore 0.5"


async def test_a_flood_of_searches_is_slowed_down(bot: Recommender, fake: FakeTelegram) -> None:
    for _ in range(5):
        assert (await say(fake, ALICE, "/search western"))["text"].startswith("<b>Search")
    assert (await say(fake, ALICE, "/search western"))["text"].startswith("Slow down")
    assert (await say(fake, BOB, "/search western"))["text"].startswith("<b>Search")


async def test_redis_stopped_mid_conversation_gets_a_clear_answer(
    fake: FakeTelegram, sample_index: MovieIndex, local_embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    with RedisServer(tmp_path, config=DEPLOY_CONFIG) as server:
        store = RedisProfileStore.from_url(server.url, timeout=0.5, connect_timeout=0.5)
        try:
            async with running_bot(fake, sample_index, local_embedder, store):
                results = await say(fake, ALICE, "/search die hard")
                pick = buttons(results)[0][0]["callback_data"]
                assert await press(fake, ALICE, results, pick) == "✓ picked: Die Hard (1988)"
                server.kill()
                reply = await say(fake, ALICE, "/recommend")
                assert reply["text"] == "I can't reach my memory right now, try again in a minute."
                answer = await press(fake, ALICE, results, picks(results)[1])
                assert answer == "I can't reach my memory right now, try again in a minute."
                server.start()
                recommended = (await say(fake, ALICE, "/recommend"))["text"]
                assert "close to Die Hard (1988), which you picked" in recommended
        finally:
            await store.close()


def test_moviebot_run_serves_telegram(fake: FakeTelegram, tmp_path: Path) -> None:
    """The real wiring: `moviebot run` in its own process, against the stand-in, with
    the two variables a newcomer sets; the first run indexes the bundled sample."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEBOT_")}
    environment |= {
        "MOVIEBOT_TELEGRAM_TOKEN": TOKEN,
        "MOVIEBOT_SECRET": SECRET.decode(),
        "MOVIEBOT_TELEGRAM_BASE_URL": f"{fake.url}/bot",
        "MOVIEBOT_INDEX_DIR": str(tmp_path / "index"),
        "MOVIEBOT_CACHE_DIR": str(tmp_path / "cache"),
        "MOVIEBOT_DATA_DIR": str(tmp_path / "data"),
    }
    process = subprocess.Popen(
        [MOVIEBOT, "run", "--platform", "telegram"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_sync(lambda: fake.commands, timeout=240)
        fake.type_text(ALICE, "/search die hard")
        wait_until_sync(lambda: fake.messages(ALICE), timeout=60)
        assert "Die Hard (1988)" in fake.messages(ALICE)[0]["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert TOKEN.split(":")[1] not in output
    assert "200 movies indexed" in output
    assert f"profiles are kept in {tmp_path / 'data'} by an embedded Redis server" in output


def test_moviebot_run_without_a_token_says_what_to_set() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEBOT_")}
    finished = subprocess.run(
        [MOVIEBOT, "run"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    assert "MOVIEBOT_TELEGRAM_TOKEN" in finished.stderr and "moviebot demo" in finished.stderr
    assert "MOVIEBOT_DISCORD_TOKEN" in finished.stderr
    for platform in ("telegram", "discord"):
        chosen = subprocess.run(
            [MOVIEBOT, "run", "--platform", platform],
            env={**environment, "MOVIEBOT_TELEGRAM_TOKEN": "1:x"}
            if platform == "discord"
            else environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert chosen.returncode == 1
        assert f"{platform} has no token: set MOVIEBOT_{platform.upper()}_TOKEN" in chosen.stderr


async def test_telegram_flood_control_is_waited_out(bot: Recommender, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", count=1, status=429, retry_after=1)
    reply = await say(fake, ALICE, "/help")
    assert reply["text"].startswith("<b>Commands</b>")
    statuses = [call.status for call in fake.calls("sendMessage")]
    assert statuses == [429, 200]


async def test_a_user_who_blocked_the_bot_does_not_stop_it(
    bot: Recommender, fake: FakeTelegram
) -> None:
    fake.block_chat(ALICE)
    fake.type_text(ALICE, "/help")
    await wait_until(lambda: [c for c in fake.calls("sendMessage") if c.status == 403])
    assert (await say(fake, BOB, "/help"))["text"].startswith("<b>Commands</b>")


async def test_subscribe_and_unsubscribe(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    alice = UserRef("telegram", str(ALICE))
    first = (await say(fake, ALICE, "/subscribe"))["text"]
    assert first.startswith("Subscribed: every Friday at 18:00 (UTC)")
    assert "Tell me your time zone once" in first
    reply = await say(fake, ALICE, "/subscribe Europe/Berlin")
    assert reply["text"].startswith("Subscribed: every Friday at 18:00 (Europe/Berlin)")
    assert "time zone" not in reply["text"]
    later = await say(fake, ALICE, "/subscribe mon 7")  # the time zone stays
    assert later["text"].startswith("Subscribed: every Monday at 07:00 (Europe/Berlin)")
    await say(fake, ALICE, "/subscribe fri 18")
    for bad in ("/subscribe 99 99", "/subscribe someday", "/subscribe mon 8 Mars/Base"):
        answer = (await say(fake, ALICE, bad))["text"]
        assert answer.startswith(("Usage: /subscribe", "Choose a day", "Unknown time zone"))
    assert await store.subscription(alice) == Subscription(4, 18, "Europe/Berlin")
    deep = (await say(fake, ALICE, "/subscribe " + "a/" * 250 + "b"))["text"]
    assert deep.startswith("Unknown time zone 'a/a/") and "Europe/Berlin" in deep
    assert len(deep) < 200
    assert await store.subscription(alice) == Subscription(4, 18, "Europe/Berlin")
    assert (await say(fake, ALICE, "/unsubscribe"))["text"] == "Unsubscribed: no more weekly picks."
    assert await store.subscription(alice) is None


async def test_webhook_mode_accepts_only_telegrams_secret(
    fake: FakeTelegram, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    port = free_port()
    hook = Webhook(f"http://127.0.0.1:{port}/telegram", "127.0.0.1", port, "sesame_42")
    store = MemoryProfileStore()
    recommender = Recommender(sample_index, local_embedder, store)
    codec = ButtonCodec(SECRET, sample_index.fingerprint)
    languages = Languages(store, LANGUAGES)
    handlers = TelegramHandlers(
        ChatServices(recommender, Subscriptions(store), codec, languages=languages)
    )
    application = build_application(TOKEN, handlers, base_url=f"{fake.url}/bot")
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": ALICE, "type": "private"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with serving(application, hook), httpx.AsyncClient() as client:
        registered = fake.calls("setWebhook")
        assert registered and registered[-1].params["url"] == hook.url
        assert registered[-1].params["secret_token"] == "sesame_42"
        forged = await client.post(
            hook.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
        )
        assert forged.status_code == 403
        genuine = await client.post(
            hook.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "sesame_42"}
        )
        assert genuine.status_code == 200
        await wait_until(lambda: fake.messages(ALICE))
        huge = {**update, "padding": "x" * MAX_BODY_BYTES}
        too_large = await client.post(
            hook.url, json=huge, headers={"X-Telegram-Bot-Api-Secret-Token": "sesame_42"}
        )
        assert too_large.status_code == 413
        not_json = await client.post(
            hook.url, content=b"{", headers={"X-Telegram-Bot-Api-Secret-Token": "sesame_42"}
        )
        assert not_json.status_code == 400
    assert len(fake.messages(ALICE)) == 1
    assert fake.messages(ALICE)[0]["text"].startswith("<b>Commands</b>")


class UnreachableEmbedder:
    """The index's embedder, as seen when its server is down."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def embed_documents(self, texts: list[str]) -> Any:
        raise EmbedderError("cannot reach the Ollama server")

    def embed_query(self, text: str) -> Any:
        raise EmbedderError("cannot reach the Ollama server")


async def test_embedder_down_gets_a_clear_answer(
    fake: FakeTelegram, sample_index: MovieIndex
) -> None:
    down = UnreachableEmbedder(sample_index.manifest.embedder, sample_index.dim)
    async with running_bot(fake, sample_index, down, MemoryProfileStore()):  # type: ignore[arg-type]
        reply = await say(fake, ALICE, "/search die hard")
        assert reply["text"] == "I can't reach my memory right now, try again in a minute."
        assert (await say(fake, ALICE, "/help"))["text"].startswith("<b>Commands</b>")


async def test_a_recommendation_the_community_carried_says_so(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore, sample_index: MovieIndex
) -> None:
    ids = {movie.title: movie.movie_id for movie in sample_index.movies}
    pair = [ids["Die Hard"], ids["Toy Story"]]
    # Every movie picked once, so that only the pair, not popularity, sets Toy Story apart.
    others = [[movie_id] for movie_id in ids.values() if movie_id not in pair]
    await store.seed_community("test", [pair, *others])
    results = await say(fake, ALICE, "/search die hard")
    await press(fake, ALICE, results, buttons(results)[0][0]["callback_data"])

    recommended = (await say(fake, ALICE, "/recommend"))["text"]

    assert "Toy Story (1995)" in recommended
    assert "people who picked Die Hard (1988) also picked this" in recommended
    assert "close to Die Hard (1988), which you picked" in recommended


class BrokenStore(MemoryProfileStore):
    """A store with a bug: reading or changing a profile raises what nobody foresaw."""

    async def load(self, user: UserRef) -> Any:
        raise RuntimeError("a bug in the store")

    async def update(self, user: UserRef, change: Any, idempotency_key: str | None = None) -> Any:
        raise RuntimeError("a bug in the store")


async def test_an_unexpected_error_gets_an_answer_with_its_logged_id(
    fake: FakeTelegram,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_bot(fake, sample_index, local_embedder, BrokenStore()):
        reply = (await say(fake, ALICE, "/recommend"))["text"]
        results = await say(fake, ALICE, "/search jaws")
        answer = await press(fake, ALICE, results, buttons(results)[0][0]["callback_data"])
    ids = [SOMETHING_WENT_WRONG.fullmatch(text) for text in (reply, answer)]
    assert all(ids), (reply, answer)
    for error_id in (match.group(1) for match in ids if match):
        (record,) = [r for r in caplog.records if error_id in r.getMessage()]
        assert record.exc_info is not None and "a bug in the store" in str(record.exc_info[1])


async def wait_for_text(fake: FakeTelegram, chat_id: int, start: str) -> str:
    """The first text sent to ``chat_id`` that starts with ``start``; a refused private
    message may be resent by the rate limiter first, hence the longer wait."""
    found = await wait_until(
        lambda: [t for t in fake.sent_texts(chat_id) if t.startswith(start)], timeout=30
    )
    return found[0]


async def test_profile_in_a_group_is_answered_privately(
    bot: Recommender, fake: FakeTelegram
) -> None:
    results = await say(fake, ALICE, "/search die hard")
    await press(fake, ALICE, results, buttons(results)[0][0]["callback_data"])
    fake.type_text(ALICE, "/profile@moviebot_test", chat_id=GROUP, chat_type="group")
    note = await wait_for_text(fake, GROUP, "Your profile is private")
    assert note == "Your profile is private: I sent it to you in our private chat."
    private = await wait_for_text(fake, ALICE, "<b>1 pick</b>")
    assert "Die Hard (1988)" in private
    assert not [t for t in fake.sent_texts(GROUP) if "Die Hard" in t]

    fake.never_started(BOB)
    fake.type_text(BOB, "/profile", chat_id=GROUP, chat_type="group")
    how = await wait_for_text(fake, GROUP, "Your profile is private, so")
    assert "https://t.me/moviebot_test?start=profile" in how and "press Start" in how
    fake.type_text(BOB, "/start profile")
    assert await wait_for_text(fake, BOB, "No picks yet") == words("en").gettext(texts.NO_PICKS_YET)


async def test_subscribe_in_a_group_needs_the_private_chat(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    alice, bob = UserRef("telegram", str(ALICE)), UserRef("telegram", str(BOB))
    fake.type_text(ALICE, "/subscribe mon 7", chat_id=GROUP, chat_type="group")
    assert (await wait_for_text(fake, GROUP, "The weekly picks")).endswith("details there.")
    assert (await wait_for_text(fake, ALICE, "Subscribed")).startswith(
        "Subscribed: every Monday at 07:00 (UTC)"
    )
    assert await store.subscription(alice) == Subscription(0, 7)

    fake.never_started(BOB)
    fake.type_text(BOB, "/subscribe", chat_id=GROUP, chat_type="group")
    how = await wait_for_text(fake, GROUP, "The weekly picks come by private message, and")
    assert "https://t.me/moviebot_test?start=subscribe" in how
    assert await store.subscription(bob) is None
    fake.type_text(BOB, "/start subscribe")
    assert (await wait_for_text(fake, BOB, "Subscribed")).startswith("Subscribed: every Friday")
    assert await store.subscription(bob) == Subscription(4, 18)


async def test_a_user_the_push_could_not_reach_is_told_once(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore, sample_index: MovieIndex
) -> None:
    alice = UserRef("telegram", str(ALICE))
    await say(fake, ALICE, "/subscribe fri 18")
    fake.block_chat(ALICE)
    sender = ExtBot(TOKEN, f"{fake.url}/bot", rate_limiter=AIORateLimiter(max_retries=1))
    notifier = TelegramNotifier(
        sender, ButtonCodec(SECRET, sample_index.fingerprint), Languages(store, LANGUAGES)
    )
    async with sender:
        push = WeeklyPush(bot, store, store.push_ledger(), [notifier])
        report = await push.run(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))
    assert report.gone == 1 and await store.subscription(alice) is None
    fake.unblock_chat(ALICE)

    await say(fake, ALICE, "/help")
    told = await wait_for_text(fake, ALICE, "Your weekly picks stopped")
    assert "https://t.me/moviebot_test?start=subscribe" in told
    await say(fake, ALICE, "/help")
    assert len([t for t in fake.sent_texts(ALICE) if t.startswith("Your weekly picks")]) == 1
