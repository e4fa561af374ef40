"""Many users at once through the running bot: everyone answered, nothing lost.

The latency figures of the same run at full size come from benchmarks/bench_load.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.index import MovieIndex
from core.stores.redis import RedisProfileStore
from testing.audit import Audit, audit
from testing.bot_process import BotProcess
from testing.crowd import JOURNEY, Crowd
from testing.local_redis import LOCAL_REDIS
from testing.telegram_api import FakeTelegram

pytestmark = pytest.mark.stress
USERS = 100
RAMP = 32.0  # seconds over which the users arrive: 25 updates per second


async def test_a_crowd_is_answered_and_every_pick_kept(
    fake: FakeTelegram,
    sample_index_dir: Path,
    sample_index: MovieIndex,
    redis_prefix: str,
    tmp_path: Path,
    record_run: Callable[[Crowd, Audit], None],
) -> None:
    settings = {
        "MOVIEBOT_INDEX_DIR": str(sample_index_dir),
        "MOVIEBOT_REDIS_URL": LOCAL_REDIS,
        "MOVIEBOT_REDIS_PREFIX": redis_prefix,
    }
    crowd = Crowd(fake, users=list(range(5000, 5000 + USERS)), ramp=RAMP)
    with BotProcess(fake.url, tmp_path / "bot.log", **settings):
        await crowd.run()
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=redis_prefix)
    report = await audit(crowd, store, sample_index)
    await store.close()
    record_run(crowd, report)

    assert crowd.finished == set(crowd.users)
    assert crowd.outcomes() == {"ok": USERS * len(JOURNEY)}
    assert report.picks == USERS * 5
    assert report.clean, report
