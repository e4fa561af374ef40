"""Faults injected while simulated users talk to the running bot.

Afterwards every user has finished (each answer was the one wanted, or a "try again"
or silence after which they tried again), every acknowledged pick is stored exactly
once, every taste vector is the replay of its picks, and the bot recovered by itself:
only a killed bot is started again, as a supervisor would. The last run kills a bot
that keeps its profiles in its embedded Redis: the server must stop with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest

from testing.audit import Audit
from testing.crowd import Crowd
from testing.faults import FAULTS, run_with_bot_killed_on_embedded_redis, run_with_fault
from testing.ollama_api import FakeOllama
from testing.telegram_api import FakeTelegram

pytestmark = pytest.mark.stress
USERS = 60
RAMP = 20.0  # seconds over which the users arrive: 24 updates per second
PATIENCE = 15.0  # seconds a user waits for an answer before trying again
FAULT_AT = 5.0  # seconds into the run


RUNS = {name: partial(run_with_fault, fault) for name, fault in FAULTS.items()}
RUNS["bot_killed_with_embedded_redis"] = run_with_bot_killed_on_embedded_redis


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
async def test_nothing_is_lost_when(
    run: Callable[[Crowd, FakeOllama, Path, Path, float], Awaitable[tuple[Audit, bool]]],
    fake: FakeTelegram,
    ollama: FakeOllama,
    ollama_index_dir: Path,
    tmp_path: Path,
    record_run: Callable[[Crowd, Audit], None],
) -> None:
    crowd = Crowd(fake, users=list(range(7000, 7000 + USERS)), ramp=RAMP, patience=PATIENCE)
    report, survived = await run(crowd, ollama, ollama_index_dir, tmp_path, FAULT_AT)

    record_run(crowd, report)
    assert survived
    assert crowd.finished == set(crowd.users)
    assert crowd.outcomes()["error"] == 0
    assert report.picks == USERS * 5
    assert report.clean, report
