"""Metrics, health and the command log of the running bot, scraped over HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.observe import CommandEvent, Outcome
from bot.app import serve
from bot.config import Platform, Settings
from bot.observability import Metrics, Readiness, TimedStore
from core.ports import ProfileStore
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.redis_servers import free_port
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until

TOKEN = "123456:TEST-token"
ALICE = 1001


def test_a_command_is_one_json_event_without_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="moviebot.commands")
    metrics = Metrics()

    metrics.command(CommandEvent("telegram", "search", 0.0123, Outcome.OK))
    metrics.command(CommandEvent("discord", "pick", 0.5, Outcome.STORE_UNAVAILABLE))
    metrics.command(CommandEvent("telegram", "button", 0.01, Outcome.STORE_FULL))

    events = [json.loads(record.getMessage()) for record in caplog.records]
    assert events[0] == {
        "event": "command",
        "platform": "telegram",
        "command": "search",
        "latency_ms": 12.3,
        "outcome": "ok",
    }
    text = metrics.exposition().decode()
    assert 'moviebot_commands_total{command="search",outcome="ok",platform="telegram"} 1.0' in text
    assert "moviebot_store_errors_total 1.0" in text
    assert "moviebot_store_full_total 1.0" in text


@asynccontextmanager
async def running_bot(
    monkeypatch: pytest.MonkeyPatch, index_dir: Path, redis_url: str
) -> AsyncIterator[tuple[FakeTelegram, str]]:
    """``moviebot run`` for Telegram in this loop, with profiles in Redis under a prefix
    of its own; yields the stand-in and the base URL of the metrics server."""
    port, prefix = free_port(), f"moviebot-test-{uuid.uuid4().hex[:12]}"
    with FakeTelegram() as telegram:
        environment = {
            "MOVIEBOT_TELEGRAM_TOKEN": TOKEN,
            "MOVIEBOT_TELEGRAM_BASE_URL": f"{telegram.url}/bot",
            "MOVIEBOT_SECRET": "a secret of more than sixteen characters",
            "MOVIEBOT_INDEX_DIR": str(index_dir),
            "MOVIEBOT_METRICS_PORT": str(port),
            "MOVIEBOT_REDIS_URL": redis_url,
            "MOVIEBOT_REDIS_PREFIX": prefix,
            "MOVIEBOT_REDIS_TIMEOUT": "0.5",
            "MOVIEBOT_REDIS_CONNECT_TIMEOUT": "0.5",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(Settings(), [Platform.telegram], stop))
        base = f"http://127.0.0.1:{port}"
        try:
            await until_answering(f"{base}/healthz", serving)
            yield telegram, base
        finally:
            stop.set()
            await asyncio.wait_for(serving, 10)
            await delete_prefix(prefix)


async def until_answering(url: str, serving: asyncio.Task[None]) -> None:
    """Wait until ``url`` answers 200; fail at once if the bot stopped."""
    for _ in range(500):
        if serving.done():
            serving.result()
            raise AssertionError("the bot stopped before serving")
        try:
            if (await get(url)).status_code == 200:
                return
        except httpx.HTTPError:
            await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never answered")


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url, timeout=5)


async def test_metrics_count_commands_picks_and_stage_times(
    monkeypatch: pytest.MonkeyPatch, sample_index_dir: Path
) -> None:
    async with running_bot(monkeypatch, sample_index_dir, LOCAL_REDIS) as (telegram, base):
        telegram.type_text(ALICE, "/search die hard")
        results = await wait_until(lambda: telegram.last_message(ALICE))
        pick = results["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        telegram.press(ALICE, results, pick)
        await wait_until(lambda: telegram.calls("answerCallbackQuery"))
        text = (await get(f"{base}/metrics")).text
        health = await get(f"{base}/healthz")
        ready = await get(f"{base}/readyz")

    assert 'moviebot_commands_total{command="search",outcome="ok",platform="telegram"} 1.0' in text
    assert 'moviebot_commands_total{command="button",outcome="ok",platform="telegram"} 1.0' in text
    assert 'moviebot_picks_total{platform="telegram"} 1.0' in text
    for stage in ("embed", "index", "store"):
        assert f'moviebot_stage_seconds_count{{stage="{stage}"}}' in text
    assert health.status_code == 200 and health.json()["status"] == "alive"
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_not_ready_while_redis_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, sample_index_dir: Path
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with running_bot(monkeypatch, sample_index_dir, dead) as (telegram, base):
        ready = await get(f"{base}/readyz")
        health = await get(f"{base}/healthz")
        telegram.type_text(ALICE, "/recommend")
        await wait_until(lambda: telegram.last_message(ALICE))
        text = (await get(f"{base}/metrics")).text

    assert health.status_code == 200
    assert ready.status_code == 503 and ready.json()["reason"] == "profile store not ready"
    assert "127.0.0.1" not in ready.text
    assert "moviebot_store_errors_total 1.0" in text


async def test_not_ready_while_telegram_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, sample_index_dir: Path
) -> None:
    async with running_bot(monkeypatch, sample_index_dir, LOCAL_REDIS) as (telegram, base):
        await ready_answer(base, 200)
        telegram.outage(30.0, status=502)
        down = await ready_answer(base, 503)
        telegram.outage(0.0)
        await ready_answer(base, 200)

    assert down.json() == {"status": "not ready", "reason": "telegram not reachable"}


async def ready_answer(base: str, status: int) -> httpx.Response:
    """``/readyz``'s first answer with ``status``, asked until it comes (it is cached
    for two seconds)."""
    for _ in range(100):
        answer = await get(f"{base}/readyz")
        if answer.status_code == status:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {status}")


def test_the_timed_store_passes_on_every_method_of_a_profile_store() -> None:
    wanted = {name for name in dir(ProfileStore) if not name.startswith("_")}

    assert wanted <= {name for name in dir(TimedStore) if not name.startswith("_")}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_readiness_is_checked_at_most_once_per_interval() -> None:
    answers, clock = [None, "profile store full"], Clock()

    async def store() -> str | None:
        return answers.pop(0)

    ready = Readiness([store], ttl=2.0, clock=clock)

    assert [await ready(), await ready()] == [None, None]
    clock.now += 2.0
    assert await ready() == "profile store full"
    assert answers == []


def non_loopback_address() -> str:
    """An address of this machine that is not loopback (the one a default route uses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
        address: str = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("this machine has no address outside loopback")
    return address


async def test_the_metrics_are_not_served_beyond_loopback_by_default(
    monkeypatch: pytest.MonkeyPatch, sample_index_dir: Path
) -> None:
    outside = non_loopback_address()
    async with running_bot(monkeypatch, sample_index_dir, LOCAL_REDIS) as (_, base):
        port = base.rsplit(":", 1)[1]
        with pytest.raises(httpx.ConnectError):
            await get(f"http://{outside}:{port}/metrics")
        assert (await get(f"{base}/metrics")).status_code == 200
