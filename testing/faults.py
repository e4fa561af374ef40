"""The faults injected while simulated users talk to a running bot, by name."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.index import MovieIndex
from core.stores.redis import RedisProfileStore
from testing.audit import Audit, audit
from testing.bot_process import BotProcess
from testing.crowd import Crowd
from testing.ollama_api import FakeOllama
from testing.redis_servers import DEPLOY_CONFIG, RedisServer
from testing.telegram_api import FakeTelegram

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


async def inject(fault: Callable[[Rig], None], rig: Rig, after: float) -> None:
    """Break ``rig`` with ``fault`` ``after`` seconds from now."""
    await asyncio.sleep(after)
    await asyncio.to_thread(fault, rig)


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
            injected = asyncio.create_task(
                inject(fault, Rig(redis, ollama, crowd.fake, bot), after)
            )
            await crowd.run()
            await injected
            survived = bot.running
        store = RedisProfileStore.from_url(redis.url)
        report = await audit(crowd, store, MovieIndex.load(index_dir))
        await store.close()
    return report, survived
