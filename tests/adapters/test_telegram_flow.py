"""The Telegram bot's flow control: one update per user at a time, and requests that
Telegram failed to take sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from telegram import Update
from telegram.error import NetworkError

from adapters.telegram import flow
from adapters.telegram.bot import sending_bot
from adapters.telegram.flow import OneUpdatePerUser
from testing.telegram_api import FakeTelegram

TOKEN = "123456:TEST-token"


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
