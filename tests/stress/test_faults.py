"""Faults injected while simulated users talk to the running bot.

Afterwards every user has finished (each answer was the one wanted, or a "try again"
or silence after which they tried again), every acknowledged pick is stored exactly
once, every taste vector is the replay of its picks, and the bot recovered by itself:
only a killed bot is started again, as a supervisor would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.index import MovieIndex
from core.stores.redis import RedisProfileStore
from tests.core.stores.redis_server import RedisServer
from tests.core.stores.test_redis import DEPLOY_CONFIG
from tests.fakes.ollama_server import FakeOllama
from tests.fakes.telegram_api import FakeTelegram
from tests.stress.audit import Audit, audit
from tests.stress.bot_process import BotProcess
from tests.stress.crowd import Crowd

pytestmark = pytest.mark.stress
USERS = 60
RAMP = 20.0  # seconds over which the users arrive: 24 updates per second
PATIENCE = 15.0  # seconds a user waits for an answer before trying again
FAULT_AT = 5.0  # seconds into the run
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


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_nothing_is_lost_when(
    fault: Callable[[Rig], None],
    fake: FakeTelegram,
    ollama: FakeOllama,
    ollama_index_dir: Path,
    tmp_path: Path,
    record_run: Callable[[Crowd, Audit], None],
) -> None:
    crowd = Crowd(fake, users=list(range(7000, 7000 + USERS)), ramp=RAMP, patience=PATIENCE)
    with RedisServer(tmp_path / "redis", config=DEPLOY_CONFIG) as redis:
        settings = {
            "MOVIEBOT_INDEX_DIR": str(ollama_index_dir),
            "MOVIEBOT_EMBEDDER": "ollama",
            "MOVIEBOT_OLLAMA_URL": ollama.url,
            "MOVIEBOT_REDIS_URL": redis.url,
        }
        with BotProcess(fake.url, tmp_path / "bot.log", **settings) as bot:
            injected = asyncio.create_task(inject(fault, Rig(redis, ollama, fake, bot)))
            await crowd.run()
            await injected
            assert bot.running
        store = RedisProfileStore.from_url(redis.url)
        report = await audit(crowd, store, MovieIndex.load(ollama_index_dir))
        await store.close()

    record_run(crowd, report)
    assert crowd.finished == set(crowd.users)
    assert crowd.outcomes()["error"] == 0
    assert report.picks == USERS * 5
    assert report.clean, report


async def inject(fault: Callable[[Rig], None], rig: Rig) -> None:
    await asyncio.sleep(FAULT_AT)
    await asyncio.to_thread(fault, rig)
