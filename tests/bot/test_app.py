"""Wiring decisions that come from settings."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path

import discord
import pytest

from adapters.buttons import Button, ButtonAction, StaleButtonError
from adapters.rate_limit import UserRateLimit
from bot.app import (
    button_codec,
    configured_platforms,
    lobby_store,
    make_redis_backend,
    rate_limits,
    serve,
)
from bot.config import LimitSettings, Platform, Settings
from bot.platforms import telegram_webhook
from core.errors import MovieBotError
from core.index import MovieIndex
from core.lobbies import ChatRef, Lobby, LobbyState, Member
from core.models import Subscription, UserRef
from core.stores.memory import MemoryBackend
from core.stores.memory_lobbies import MemoryLobbyStore
from core.stores.redis import RedisBackend, RedisProfileStore
from testing.discord_api import TOKEN as DISCORD_TOKEN
from testing.discord_api import FakeDiscord
from testing.local_redis import LOCAL_REDIS
from testing.redis_servers import RedisCluster
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until

TELEGRAM_TOKEN = "123456:TEST-token"
GROUP, GUILD = -100200300, 41771983423143937


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URL", "PORT"):
        monkeypatch.delenv(f"MOVIEBOT_TELEGRAM_WEBHOOK_{name}", raising=False)
    monkeypatch.delenv("MOVIEBOT_SECRET", raising=False)
    monkeypatch.delenv("MOVIEBOT_SECRET_PREVIOUS", raising=False)


def test_without_a_webhook_url_the_bot_polls() -> None:
    assert telegram_webhook(Settings()) is None


def test_the_webhook_secret_comes_from_the_button_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_PORT", "9000")
    monkeypatch.setenv("MOVIEBOT_SECRET", "a secret of more than sixteen characters")
    hook = telegram_webhook(Settings())
    assert hook is not None and (hook.url, hook.listen, hook.port) == (
        "https://bot.example.org/telegram",
        "127.0.0.1",
        9000,
    )
    # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", hook.secret_token)
    assert telegram_webhook(Settings()) == hook
    monkeypatch.setenv("MOVIEBOT_SECRET", "another secret, also long enough")
    assert telegram_webhook(Settings()).secret_token != hook.secret_token  # type: ignore[union-attr]


def test_a_webhook_needs_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(MovieBotError, match="MOVIEBOT_SECRET"):
        telegram_webhook(Settings())


def test_the_platforms_with_a_token_are_served(monkeypatch: pytest.MonkeyPatch) -> None:
    for platform in ("TELEGRAM", "DISCORD"):
        monkeypatch.delenv(f"MOVIEBOT_{platform}_TOKEN", raising=False)
    assert configured_platforms(Settings()) == []
    monkeypatch.setenv("MOVIEBOT_DISCORD_TOKEN", "a.discord.token")
    assert configured_platforms(Settings()) == [Platform.discord]
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_TOKEN", "123:abc")
    assert configured_platforms(Settings()) == [Platform.telegram, Platform.discord]


async def test_both_platforms_answer_from_one_process(
    monkeypatch: pytest.MonkeyPatch, sample_index_dir: Path
) -> None:
    with FakeTelegram() as telegram, FakeDiscord() as discord_api:
        monkeypatch.setattr(discord.http.Route, "BASE", discord_api.api_base)
        environment = {
            "MOVIEBOT_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "MOVIEBOT_TELEGRAM_BASE_URL": f"{telegram.url}/bot",
            "MOVIEBOT_DISCORD_TOKEN": DISCORD_TOKEN,
            "MOVIEBOT_SECRET": "a secret of more than sixteen characters",
            "MOVIEBOT_INDEX_DIR": str(sample_index_dir),
            "MOVIEBOT_METRICS_PORT": "0",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MOVIEBOT_REDIS_URL", "memory://")
        stop = asyncio.Event()
        serving = asyncio.create_task(
            serve(Settings(), [Platform.telegram, Platform.discord], stop)
        )
        await discord_api.wait_connected()
        await wait_until(lambda: discord_api.commands())

        telegram.type_text(1001, "/search die hard")
        telegram.type_text(1002, "/movienight", chat_id=GROUP, chat_type="supergroup")
        interaction_id = discord_api.slash(1001, "search", {"text": "die hard"})
        night_id = discord_api.slash(1001, "movienight", guild_id=GUILD)
        await wait_until(lambda: telegram.messages(1001) and telegram.messages(GROUP))
        await wait_until(lambda: len(discord_api.answers(interaction_id)) == 2)
        await wait_until(lambda: discord_api.answers(night_id))
        stop.set()
        await asyncio.wait_for(serving, 10)

    assert "Die Hard" in telegram.messages(1001)[0]["text"]
    assert telegram.messages(GROUP)[0]["text"].startswith("🎬 Movie night!")
    assert (discord_api.answers(night_id)[0].content or "").startswith("🎬 Movie night!")
    results = discord_api.answers(interaction_id)[1]
    assert any("Die Hard" in embed["title"] for embed in results.embeds)


async def test_the_store_can_live_in_a_redis_cluster(
    monkeypatch: pytest.MonkeyPatch, redis_cluster: RedisCluster
) -> None:
    monkeypatch.setenv("MOVIEBOT_REDIS_URL", redis_cluster.url)
    monkeypatch.setenv("MOVIEBOT_REDIS_CLUSTER", "true")
    monkeypatch.setenv("MOVIEBOT_REDIS_PREFIX", f"moviebot-test-{uuid.uuid4().hex[:12]}")
    backend = make_redis_backend(Settings())
    store = backend.store
    user = UserRef("telegram", "1")

    await store.ping()
    await store.set_subscription(user, Subscription(4, 18))
    assert [u async for u, _ in store.subscribers()] == [user]
    await store.forget(user)
    assert [u async for u, _ in store.subscribers()] == []
    await backend.close()


async def test_the_limits_are_counted_in_redis_when_the_profiles_are(redis_prefix: str) -> None:
    settings = Settings(limits=LimitSettings(requests=2, searches=1))
    in_memory = rate_limits(settings, MemoryBackend())
    assert all(isinstance(limit, UserRateLimit) for limit in in_memory)

    backend = RedisBackend(RedisProfileStore.from_url(LOCAL_REDIS, prefix=redis_prefix))
    try:
        searches, requests = rate_limits(settings, backend)
        again = rate_limits(settings, backend)[1]  # as another process would count
        alice = UserRef("telegram", "1")
        assert [await requests.allow(alice), await again.allow(alice)] == [True, True]
        assert not await requests.allow(alice)
        assert [await searches.allow(alice), await searches.allow(alice)] == [True, False]
    finally:
        await backend.close()


async def test_movie_nights_live_beside_the_profiles(redis_prefix: str) -> None:
    assert isinstance(lobby_store(MemoryBackend()), MemoryLobbyStore)
    backend = RedisBackend(RedisProfileStore.from_url(LOCAL_REDIS, prefix=redis_prefix))
    night = Lobby(
        "k3x9a2",
        ChatRef("telegram", "-1"),
        (Member(UserRef("telegram", "1"), "Alice"),),
        LobbyState.OPEN,
        opened_at=time.time(),
        starts_at=time.time() + 600,
        expires_at=time.time() + 3600,
    )
    try:
        await lobby_store(backend).create(night)
        assert await lobby_store(backend).load("k3x9a2") == night  # as another process reads
    finally:
        await backend.close()


def test_a_rotated_secret_still_reads_the_buttons_of_the_previous_one(
    monkeypatch: pytest.MonkeyPatch, sample_index: MovieIndex
) -> None:
    old, new = (
        "the secret before the rotation, 32+ chars",
        "the secret after the rotation, 32+ chars",
    )
    alice = UserRef("telegram", "1")
    monkeypatch.setenv("MOVIEBOT_SECRET", old)
    sent = button_codec(Settings(), sample_index).write(alice, Button(ButtonAction.PICK, 5))
    monkeypatch.setenv("MOVIEBOT_SECRET", new)

    with pytest.raises(StaleButtonError):
        button_codec(Settings(), sample_index).read(alice, sent)
    monkeypatch.setenv("MOVIEBOT_SECRET_PREVIOUS", old)
    assert button_codec(Settings(), sample_index).read(alice, sent) == Button(ButtonAction.PICK, 5)


def test_a_short_secret_is_refused_with_how_to_make_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_SECRET", "sixteen chars ok but not 32")

    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings()
