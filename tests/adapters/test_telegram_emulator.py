"""The Telegram Bot API emulator, driven by the real python-telegram-bot library."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from testing.telegram_api import BOT_ID, BOT_USERNAME, FakeTelegram
from testing.waiting import wait_until

TOKEN = "123456:TEST-token"
ALICE = 1001
GROUP = -100200300
App = Application[Any, Any, Any, Any, Any, Any]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("again", callback_data=data)]])


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    words = " ".join(context.args or [])
    await update.message.reply_text(f"echo: {words}", reply_markup=keyboard(f"again:{words}"))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("done")
    await query.edit_message_text(f"pressed {query.data}")


def build_app(fake: FakeTelegram) -> App:
    application = ApplicationBuilder().token(TOKEN).base_url(f"{fake.url}/bot").build()
    application.add_handler(CommandHandler(["echo", "search"], echo))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


@asynccontextmanager
async def running(fake: FakeTelegram) -> AsyncIterator[App]:
    application = build_app(fake)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


@asynccontextmanager
async def plain_bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{fake.url}/bot") as bot:
        yield bot


async def test_a_command_and_a_button_press_round_trip(fake: FakeTelegram) -> None:
    async with running(fake) as application:
        assert application.bot.username == BOT_USERNAME
        fake.type_text(ALICE, "/echo hi", username="alice")

        sent = await wait_until(lambda: fake.calls("sendMessage"))
        assert sent[0].params["chat_id"] == ALICE
        assert sent[0].params["text"] == "echo: hi"
        expected_markup = {"inline_keyboard": [[{"text": "again", "callback_data": "again:hi"}]]}
        assert sent[0].params["reply_markup"] == expected_markup
        message = fake.last_message(ALICE)
        assert message is not None
        assert message["from"]["id"] == BOT_ID
        assert message["reply_markup"] == expected_markup

        query_id = fake.press(ALICE, message, "again:hi")
        answers = await wait_until(lambda: fake.calls("answerCallbackQuery"))
        edits = await wait_until(lambda: fake.calls("editMessageText"))

    assert answers[0].params == {"callback_query_id": query_id, "text": "done"}
    assert edits[0].status == 200
    assert edits[0].params["message_id"] == message["message_id"]
    edited = fake.last_message(ALICE)
    assert edited is not None
    assert edited["text"] == "pressed again:hi"
    assert "reply_markup" not in edited  # an edit without a keyboard removes it
    assert fake.sent_texts(ALICE) == ["echo: hi"]
    assert fake.token_seen == TOKEN
    assert [call.method for call in fake.calls()][:1] == ["getMe"]
    assert fake.calls("deleteWebhook")


async def test_a_command_addressed_to_the_bot_by_name(fake: FakeTelegram) -> None:
    async with running(fake):
        fake.type_text(ALICE, "/search@moviebot_test die hard", chat_id=GROUP, chat_type="group")
        await wait_until(lambda: fake.sent_texts(GROUP))
    assert fake.sent_texts(GROUP) == ["echo: die hard"]
    assert fake.sent_texts(ALICE) == []


def test_typed_commands_carry_their_entity(fake: FakeTelegram) -> None:
    fake.type_text(ALICE, "/search@moviebot_test die hard")
    fake.type_text(ALICE, "just words")
    updates = fake._updates  # white-box: what getUpdates will hand out
    assert updates[0]["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len("/search@moviebot_test")}
    ]
    assert "entities" not in updates[1]["message"]
    assert updates[0]["message"]["message_id"] != updates[1]["message"]["message_id"]


async def test_get_updates_honours_the_offset(fake: FakeTelegram) -> None:
    first = fake.type_text(ALICE, "one")
    second = fake.type_text(ALICE, "two")
    async with plain_bot(fake) as bot:
        updates = await bot.get_updates(offset=0, timeout=0)
        assert [u.update_id for u in updates] == [first, second]
        assert [u.message.text for u in updates if u.message] == ["one", "two"]
        assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
        assert await bot.get_updates(offset=second + 1, timeout=0) == ()


async def test_too_many_requests_surfaces_as_retry_after(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22's future type, without the warning
    fake.fail_next("sendMessage", count=1, status=429, retry_after=1)
    async with plain_bot(fake) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ALICE, "hello")
        assert caught.value.retry_after == dt.timedelta(seconds=1)
        await bot.send_message(ALICE, "hello again")
    assert [call.status for call in fake.calls("sendMessage")] == [429, 200]
    assert fake.sent_texts(ALICE) == ["hello again"]


async def test_a_server_error_surfaces_as_network_error(fake: FakeTelegram) -> None:
    fake.fail_next("sendmessage", count=2, status=500)
    async with plain_bot(fake) as bot:
        for _ in range(2):
            with pytest.raises(NetworkError):
                await bot.send_message(ALICE, "hello")
        message = await bot.send_message(ALICE, "hello")
    assert message.text == "hello"


async def test_a_blocked_chat_surfaces_as_forbidden(fake: FakeTelegram) -> None:
    async with plain_bot(fake) as bot:
        sent = await bot.send_message(ALICE, "before")
        fake.block_chat(ALICE)
        with pytest.raises(Forbidden, match="blocked by the user"):
            await bot.send_message(ALICE, "after")
        with pytest.raises(Forbidden):
            await bot.edit_message_text("edited", chat_id=ALICE, message_id=sent.message_id)
        await bot.send_message(ALICE + 1, "someone else")
    assert fake.sent_texts() == ["before", "someone else"]


async def test_edits_keep_the_store_consistent(fake: FakeTelegram) -> None:
    async with plain_bot(fake) as bot:
        first = await bot.send_message(ALICE, "first", reply_markup=keyboard("a"))
        second = await bot.send_message(ALICE, "second")
        assert second.message_id == first.message_id + 1
        assert first.reply_markup == keyboard("a")

        edited = await bot.edit_message_reply_markup(
            chat_id=ALICE, message_id=first.message_id, reply_markup=keyboard("b")
        )
        assert isinstance(edited, type(first))
        assert (edited.text, edited.reply_markup) == ("first", keyboard("b"))
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_reply_markup(
                chat_id=ALICE, message_id=first.message_id, reply_markup=keyboard("b")
            )
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_text("x", chat_id=ALICE, message_id=999)
        assert await bot.delete_message(ALICE, second.message_id)
    assert [m["text"] for m in fake.messages(ALICE)] == ["first"]


async def test_commands_unknown_methods_and_stale_callbacks(fake: FakeTelegram) -> None:
    async with plain_bot(fake) as bot:
        await bot.set_my_commands([BotCommand("search", "find a movie")])
        assert await bot.get_my_commands() == (BotCommand("search", "find a movie"),)
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
            await bot.answer_callback_query("never-issued")
    assert fake.commands == [{"command": "search", "description": "find a movie"}]
    assert fake.calls("nosuchmethod")[0].status == 404


async def test_wait_until_names_the_condition_on_timeout(fake: FakeTelegram) -> None:
    def bot_said_something() -> bool:
        return bool(fake.sent_texts())

    with pytest.raises(AssertionError, match=r"bot_said_something.*nothing sent"):
        await wait_until(bot_said_something, timeout=0.05, message="nothing sent")


@pytest.mark.parametrize(
    "text",
    [
        "<b>unclosed",
        "<script>x</script>",
        "a < b",
        "fish & chips",
        "</i>",
        "x" * 4097,
        "<b>" + "x" * 4097 + "</b>",
    ],
)
async def test_text_telegram_would_refuse_is_refused(fake: FakeTelegram, text: str) -> None:
    async with plain_bot(fake) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(ALICE, text, parse_mode="HTML")


async def test_escaped_html_up_to_the_limit_is_accepted(fake: FakeTelegram) -> None:
    async with plain_bot(fake) as bot:
        await bot.send_message(ALICE, "<b>a &lt; b &amp; c</b> " + "x" * 4000, parse_mode="HTML")
        await bot.send_message(ALICE, "a < b & c", parse_mode=None)

    assert [call.status for call in fake.calls("sendMessage")] == [200, 200]
