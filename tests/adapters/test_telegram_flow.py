"""The Telegram bot's flow control: one update per user at a time, none of the waiting
ones holding a shared slot, a cap on those waiting; requests that Telegram failed to
take sent again, and those it refused not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import Application, ApplicationBuilder, CommandHandler, TypeHandler

from adapters import texts
from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES, words
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from adapters.telegram import flow
from adapters.telegram.bot import build_application, sending_bot, serving
from adapters.telegram.flow import MAX_WAITING, OneUpdatePerUser, ResendingRateLimiter
from adapters.telegram.handlers import TelegramHandlers
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.subscriptions import Subscriptions
from testing.redis_servers import free_port
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until

EN = words("en")
TOKEN = "123456:TEST-token"
SECRET = b"telegram flow test secret, 32 b!"


ALICE, FLOODER, GROUP = 1001, 1002, -100200300


def update(update_id: int, user: int) -> Update:
    sender = {"id": user, "is_bot": False, "first_name": f"User{user}"}
    message = {
        "message_id": update_id,
        "date": 0,
        "chat": {"id": user, "type": "private"},
        "from": sender,
        "text": "/help",
    }
    return Update.de_json({"update_id": update_id, "message": message}, None)


async def test_one_users_updates_run_in_order_while_others_run_alongside() -> None:
    processor = OneUpdatePerUser(max_concurrent_updates=8)
    events: list[str] = []
    release_first = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        events.append(f"{name} starts")
        if wait is not None:
            await wait.wait()
        events.append(f"{name} ends")

    tasks = [
        asyncio.create_task(processor.process_update(update(1, 10), handle("a1", release_first))),
        asyncio.create_task(processor.process_update(update(2, 10), handle("a2"))),
        asyncio.create_task(processor.process_update(update(3, 20), handle("b1"))),
    ]
    await asyncio.sleep(0.05)
    assert events == ["a1 starts", "b1 starts", "b1 ends"]  # a2 waits for a1, b1 does not

    release_first.set()
    await asyncio.gather(*tasks)
    assert events[3:] == ["a1 ends", "a2 starts", "a2 ends"]
    assert processor._lanes == {}  # nothing kept for users with nothing in flight


async def test_a_users_waiting_updates_hold_no_slot_another_user_needs() -> None:
    processor = OneUpdatePerUser(max_concurrent_updates=4, max_waiting=1000)
    events: list[str] = []
    release_flooder = asyncio.Event()

    async def handle(name: str, wait: asyncio.Event | None = None) -> None:
        if wait is not None:
            await wait.wait()
        events.append(name)

    flood = [
        processor.process_update(update(n, FLOODER), handle(f"flood {n}", release_flooder))
        for n in range(100)
    ]
    tasks = [asyncio.create_task(coroutine) for coroutine in flood]
    await asyncio.sleep(0)
    other = asyncio.create_task(processor.process_update(update(100, ALICE), handle("alice")))
    await asyncio.wait_for(other, timeout=5)  # with a slot taken per waiting update: never
    assert events == ["alice"]

    release_flooder.set()
    await asyncio.gather(*tasks)
    assert events == ["alice"] + [f"flood {n}" for n in range(100)]  # all, in order


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def quick_resends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow, "FIRST_PAUSE_SECONDS", 0.01)


@pytest.mark.usefixtures("quick_resends")
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_message_telegram_failed_to_take_is_sent_again(
    fake: FakeTelegram, status: int
) -> None:
    fake.fail_next("sendMessage", count=flow.RESENDS, status=status)
    async with sending_bot(TOKEN, f"{fake.url}/bot") as bot:
        await bot.send_message(42, "hello")

    statuses = [call.status for call in fake.calls("sendMessage")]
    assert statuses == [status] * flow.RESENDS + [200]
    assert fake.sent_texts(42) == ["hello"]


@pytest.mark.usefixtures("quick_resends")
async def test_resending_gives_up_after_the_last_try(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", count=flow.RESENDS + 1, status=502)
    async with sending_bot(TOKEN, f"{fake.url}/bot") as bot:
        with pytest.raises(NetworkError):
            await bot.send_message(42, "hello")
    assert len(fake.calls("sendMessage")) == flow.RESENDS + 1


@pytest.mark.usefixtures("quick_resends")
async def test_a_refused_message_is_not_sent_again(fake: FakeTelegram) -> None:
    fake.block_chat(42)
    async with sending_bot(TOKEN, f"{fake.url}/bot") as bot:
        with pytest.raises(Exception, match="blocked"):
            await bot.send_message(42, "hello")
    calls: list[Any] = fake.calls("sendMessage")
    assert [call.status for call in calls] == [403]


@asynccontextmanager
async def moviebot(
    fake: FakeTelegram,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    max_waiting: int = MAX_WAITING,
    requests: UserRateLimit | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The moviebot Application polling the stand-in until the block ends."""
    store = MemoryProfileStore()
    services = ChatServices(
        Recommender(sample_index, local_embedder, store),
        Subscriptions(store),
        ButtonCodec(SECRET, sample_index.fingerprint),
        requests=requests or UserRateLimit(limit=1000),
        languages=Languages(store, LANGUAGES),
    )
    application = build_application(
        TOKEN, TelegramHandlers(services), f"{fake.url}/bot", max_waiting=max_waiting
    )
    async with serving(application, poll_timeout=1):
        yield application


async def test_beyond_the_waiting_cap_updates_are_dropped_with_one_notice(
    fake: FakeTelegram, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    first_update, *_ = [fake.type_text(FLOODER, "/help") for _ in range(30)]
    release = asyncio.Event()

    async def hold_the_first(update: Update, context: object) -> None:
        if update.update_id == first_update:
            await release.wait()

    async with moviebot(fake, sample_index, local_embedder, max_waiting=3) as application:
        application.add_handler(TypeHandler(Update, hold_the_first), group=-2)
        try:
            await wait_until(lambda: EN.gettext(texts.TOO_MANY_WAITING) in fake.sent_texts(FLOODER))
        finally:
            release.set()
        await wait_until(lambda: len(fake.sent_texts(FLOODER)) >= 5)
        await asyncio.sleep(0.2)  # room for any reply that should not come

    sent = fake.sent_texts(FLOODER)
    assert sent.count(EN.gettext(texts.TOO_MANY_WAITING)) == 1
    assert len(sent) == 1 + 4  # the one answered, the three that waited, one notice


async def test_every_command_and_button_is_rate_limited(
    fake: FakeTelegram, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    limit = UserRateLimit(limit=3, window=600)
    async with moviebot(fake, sample_index, local_embedder, requests=limit):
        for answered, command in enumerate(("/forget", "/help", "/profile", "/help", "/undo")):
            fake.type_text(ALICE, command)
            await wait_until(lambda n=answered: len(fake.sent_texts(ALICE)) > n)
        confirmation = fake.messages(ALICE)[0]
        button = confirmation["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        query_id = fake.press(ALICE, confirmation, button)
        answers = await wait_until(
            lambda: [
                call.params.get("text")
                for call in fake.calls("answerCallbackQuery")
                if call.params.get("callback_query_id") == query_id
            ]
        )

    assert fake.sent_texts(ALICE)[3:] == [EN.gettext(texts.SLOW_DOWN)] * 2
    assert answers == [EN.gettext(texts.SLOW_DOWN)]
    assert fake.messages(ALICE)[0]["text"] == EN.gettext(texts.FORGET_QUESTION)  # not forgotten


async def test_a_groups_queued_replies_do_not_hold_up_a_private_chat(fake: FakeTelegram) -> None:
    # One reply a second to a group (Telegram's limit is 20 a minute), three shared slots.
    limiter = ResendingRateLimiter(group_max_rate=1, group_time_period=1)
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .rate_limiter(limiter)
        .concurrent_updates(OneUpdatePerUser(max_concurrent_updates=3))
        .build()
    )

    async def reply(update: Update, context: object) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"hello {update.effective_user.id}")

    application.add_handler(CommandHandler("hello", reply))
    for member in range(6):
        fake.type_text(2000 + member, "/hello", chat_id=GROUP, chat_type="supergroup")
    fake.type_text(ALICE, "/hello")
    async with serving(application, poll_timeout=1):
        await wait_until(lambda: fake.sent_texts(ALICE), timeout=30)
        await wait_until(lambda: len(fake.sent_texts(GROUP)) == 6, timeout=30)

    chats = [call.params["chat_id"] for call in fake.calls("sendMessage")]
    assert chats.index(ALICE) < 2  # before the group's second reply, not behind its queue


async def test_a_request_telegram_refused_is_sent_once(fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    async with sending_bot(TOKEN, f"{fake.url}/bot") as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(42, "hello")
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query("cbq-never-issued", "hi")

    assert [call.status for call in fake.calls("sendMessage")] == [400]
    assert [call.status for call in fake.calls("answerCallbackQuery")] == [400]


async def test_an_edit_that_changes_nothing_is_done(fake: FakeTelegram) -> None:
    async with sending_bot(TOKEN, f"{fake.url}/bot") as bot:
        message = await bot.send_message(42, "hello")
        assert await bot.edit_message_text("hello", 42, message.message_id) is True

    assert [call.status for call in fake.calls("editMessageText")] == [400]


@pytest.mark.usefixtures("quick_resends")
async def test_a_lost_connection_is_still_resent(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(NetworkError, match="ConnectError"):
        async with sending_bot(TOKEN, f"http://127.0.0.1:{free_port()}/bot"):
            pass  # opening the bot asks Telegram who it is
    resends = [record for record in caplog.records if "resending" in record.getMessage()]
    assert len(resends) == flow.RESENDS
