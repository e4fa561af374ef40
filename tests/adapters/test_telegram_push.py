"""The weekly push through the real python-telegram-bot to the Bot API stand-in, with
subscriptions, claims and the lease in the local Redis."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import numpy as np
import pytest
from telegram.ext import AIORateLimiter, ExtBot

from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES
from adapters.telegram.notifier import TelegramNotifier
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.models import Subscription, UserRef
from core.push import PushSettings, WeeklyPush
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from testing.local_redis import LOCAL_REDIS
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until

TOKEN = "123456:TEST-token"
SECRET = b"telegram push test secret, 32 b!"
FRIDAY_18 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
USERS = 1_000
FIRST_CHAT = 5_000_000
SETTINGS = PushSettings(per_second={"telegram": 2_000.0}, concurrency=40)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@asynccontextmanager
async def pusher(
    fake: FakeTelegram, prefix: str, index: MovieIndex, embedder: OnnxEmbedder
) -> AsyncIterator[WeeklyPush]:
    """A push as one bot process runs it: its own Redis connections and its own bot.

    The rate limiter only retries flood control here: the push's own rate is the one
    under test, and Telegram's 30 messages/s would make 1,000 pushes take half a minute.
    """
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
    bot = ExtBot(TOKEN, f"{fake.url}/bot", rate_limiter=limiter)
    recommender = Recommender(index, embedder, store, rng=np.random.default_rng(0))
    notifier = TelegramNotifier(
        bot, ButtonCodec(SECRET, index.fingerprint), Languages(store, LANGUAGES)
    )
    try:
        async with bot:
            yield WeeklyPush(recommender, store, store.push_ledger(), [notifier], SETTINGS)
    finally:
        await store.close()


async def subscribed(prefix: str, count: int) -> list[int]:
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    chats = list(range(FIRST_CHAT, FIRST_CHAT + count))
    for chat in chats:
        await store.set_subscription(UserRef("telegram", str(chat)), Subscription(4, 18))
    await store.close()
    return chats


def delivered(fake: FakeTelegram) -> Counter[int]:
    """Messages the stand-in delivered, per chat."""
    return Counter(
        int(call.params["chat_id"]) for call in fake.calls("sendMessage") if call.status == 200
    )


async def test_a_push_to_1000_users_sends_1000_messages(
    fake: FakeTelegram, redis_prefix: str, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    chats = await subscribed(redis_prefix, USERS)

    async with pusher(fake, redis_prefix, sample_index, local_embedder) as push:
        report = await push.run(FRIDAY_18)

    assert report.sent == USERS
    assert delivered(fake) == Counter(chats)
    message = fake.messages(chats[0])[0]
    assert message["text"].startswith("<b>Your weekly picks")
    assert len(message["reply_markup"]["inline_keyboard"]) == SETTINGS.picks


async def test_a_push_stopped_after_300_sends_the_other_700_on_restart(
    fake: FakeTelegram, redis_prefix: str, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    chats = await subscribed(redis_prefix, USERS)
    stop = asyncio.Event()

    async def stop_after_300() -> None:
        await wait_until(lambda: sum(delivered(fake).values()) >= 300, 60)
        stop.set()

    watcher = asyncio.create_task(stop_after_300())
    async with pusher(fake, redis_prefix, sample_index, local_embedder) as push:
        first = await push.run(FRIDAY_18, stop=stop)
    await watcher
    async with pusher(fake, redis_prefix, sample_index, local_embedder) as push:
        second = await push.run(FRIDAY_18)

    assert 300 <= first.sent < USERS
    assert first.sent + second.sent == USERS
    assert delivered(fake) == Counter(chats)


async def test_two_pushers_started_together_send_1000_in_total(
    fake: FakeTelegram, redis_prefix: str, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    chats = await subscribed(redis_prefix, USERS)

    async with (
        pusher(fake, redis_prefix, sample_index, local_embedder) as one,
        pusher(fake, redis_prefix, sample_index, local_embedder) as two,
    ):
        reports = await asyncio.gather(one.run(FRIDAY_18), two.run(FRIDAY_18))

    assert sum(report.sent for report in reports) == USERS
    assert delivered(fake) == Counter(chats)


async def test_users_who_blocked_the_bot_are_unsubscribed(
    fake: FakeTelegram, redis_prefix: str, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    chats = await subscribed(redis_prefix, 100)
    blocked = set(chats[::9])
    for chat in blocked:
        fake.block_chat(chat)

    async with pusher(fake, redis_prefix, sample_index, local_embedder) as push:
        report = await push.run(FRIDAY_18)
        later = await push.run(FRIDAY_18.replace(hour=19))

    assert (report.sent, report.gone, later.planned) == (100 - len(blocked), len(blocked), 0)
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=redis_prefix)
    still = {int(user.user_id) async for user, _ in store.subscribers()}
    await store.close()
    assert still == set(chats) - blocked


async def test_flood_control_slows_the_push_and_loses_no_one(
    fake: FakeTelegram, redis_prefix: str, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> None:
    chats = await subscribed(redis_prefix, 60)
    fake.fail_next("sendMessage", count=5, status=429, retry_after=1)

    async with pusher(fake, redis_prefix, sample_index, local_embedder) as push:
        report = await push.run(FRIDAY_18)

    refused = [call for call in fake.calls("sendMessage") if call.status == 429]
    assert len(refused) == 5
    assert (report.sent, report.failed) == (60, 0)
    assert delivered(fake) == Counter(chats)
