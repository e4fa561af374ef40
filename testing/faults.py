"""The faults injected while simulated users talk to a running bot, by name."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.embedded_redis import open_embedded_backend
from core.index import MovieIndex
from core.stores.redis import RedisProfileStore
from testing.audit import Audit, audit
from testing.bot_process import BotProcess
from testing.crowd import Crowd
from testing.ollama_api import FakeOllama
from testing.redis_servers import DEPLOY_CONFIG, RedisServer, embedded_server_pids
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until_sync

OUTAGE = 10.0  # seconds


@dataclass
class Rig:
    """The parts of a running bot that a fault can break."""

    redis: RedisServer
    ollama: FakeOllama
    telegram: FakeTelegram
    bot: BotProcess


def redis_killed(rig: Rig) -> None:
    rig.redis.kill()
    time.sleep(1)
    rig.redis.start()


def redis_paused(rig: Rig) -> None:
    rig.redis.pause()
    time.sleep(OUTAGE)
    rig.redis.resume()


def embedder_failing(rig: Rig) -> None:
    rig.ollama.fail_for(OUTAGE)


def embedder_hanging(rig: Rig) -> None:
    rig.ollama.hang_for(OUTAGE)


def telegram_throttling(rig: Rig) -> None:
    rig.telegram.outage(OUTAGE, status=429, retry_after=5)


def telegram_failing(rig: Rig) -> None:
    rig.telegram.outage(OUTAGE, status=502)


def bot_killed(rig: Rig) -> None:
    rig.bot.kill()
    rig.bot.start()


FAULTS: dict[str, Callable[[Rig], None]] = {
    fault.__name__: fault
    for fault in (
        redis_killed,
        redis_paused,
        embedder_failing,
        embedder_hanging,
        telegram_throttling,
        telegram_failing,
        bot_killed,
    )
}


async def later(seconds: float, action: Callable[[], None]) -> None:
    """Run ``action`` in a thread ``seconds`` from now (a fault, while users talk)."""
    await asyncio.sleep(seconds)
    await asyncio.to_thread(action)


async def run_with_fault(
    fault: Callable[[Rig], None],
    crowd: Crowd,
    ollama: FakeOllama,
    index_dir: Path,
    scratch: Path,
    after: float,
) -> tuple[Audit, bool]:
    """Run ``crowd`` against a bot of its own, with a Redis of its own (deploy/redis.conf)
    and the Ollama stand-in as embedder; break it with ``fault`` ``after`` seconds in.
    Returns the audit of every user's profile, and whether the bot was running at the
    end."""
    with RedisServer(scratch / "redis", config=DEPLOY_CONFIG) as redis:
        settings = {
            "MOVIEBOT_INDEX_DIR": str(index_dir),
            "MOVIEBOT_EMBEDDER": "ollama",
            "MOVIEBOT_OLLAMA_URL": ollama.url,
            "MOVIEBOT_REDIS_URL": redis.url,
        }
        with BotProcess(crowd.fake.url, scratch / "bot.log", **settings) as bot:
            rig = Rig(redis, ollama, crowd.fake, bot)
            injected = asyncio.create_task(later(after, partial(fault, rig)))
            await crowd.run()
            await injected
            survived = bot.running
        store = RedisProfileStore.from_url(redis.url)
        report = await audit(crowd, store, MovieIndex.load(index_dir))
        await store.close()
    return report, survived


def bot_and_its_redis_killed(bot: BotProcess, data_dir: Path) -> None:
    """SIGKILL the bot, check that its embedded Redis stops by itself, and start the
    bot again on the same data directory."""
    assert embedded_server_pids(data_dir), "the bot runs no embedded Redis"
    bot.kill()
    wait_until_sync(lambda: not embedded_server_pids(data_dir), message="its Redis still runs")
    bot.start()


async def run_with_bot_killed_on_embedded_redis(
    crowd: Crowd, ollama: FakeOllama, index_dir: Path, scratch: Path, after: float
) -> tuple[Audit, bool]:
    """Run ``crowd`` against a bot that keeps its profiles in the embedded Redis of its
    own data directory, with the Ollama stand-in as embedder; ``after`` seconds in, kill
    the bot with SIGKILL and start it again (:func:`bot_and_its_redis_killed`). Returns
    the audit of the data directory, read once the bot has stopped, and whether the bot
    was running at the end."""
    scratch.mkdir(parents=True, exist_ok=True)
    data_dir = scratch / "data"
    settings = {
        "MOVIEBOT_INDEX_DIR": str(index_dir),
        "MOVIEBOT_EMBEDDER": "ollama",
        "MOVIEBOT_OLLAMA_URL": ollama.url,
        "MOVIEBOT_DATA_DIR": str(data_dir),
    }
    with BotProcess(crowd.fake.url, scratch / "bot.log", **settings) as bot:
        killed = asyncio.create_task(later(after, partial(bot_and_its_redis_killed, bot, data_dir)))
        await crowd.run()
        await killed
        survived = bot.running
    backend = open_embedded_backend(data_dir, lambda url: RedisProfileStore.from_url(url))
    try:
        report = await audit(crowd, backend.store, MovieIndex.load(index_dir))
    finally:
        await backend.close()
    return report, survived
