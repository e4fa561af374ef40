"""Faults injected while simulated users talk to the running bot.

Afterwards every user has finished (each answer was the one wanted, or a "try again"
or silence after which they tried again), every acknowledged pick is stored exactly
once, every taste vector is the replay of its picks, and the bot recovered by itself:
only a killed bot is started again, as a supervisor would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testing.audit import Audit
from testing.crowd import Crowd
from testing.faults import FAULTS, Rig, run_with_fault
from testing.ollama_api import FakeOllama
from testing.telegram_api import FakeTelegram

pytestmark = pytest.mark.stress
USERS = 60
RAMP = 20.0  # seconds over which the users arrive: 24 updates per second
PATIENCE = 15.0  # seconds a user waits for an answer before trying again
FAULT_AT = 5.0  # seconds into the run


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
    report, survived = await run_with_fault(
        fault, crowd, ollama, ollama_index_dir, tmp_path, FAULT_AT
    )

    record_run(crowd, report)
    assert survived
    assert crowd.finished == set(crowd.users)
    assert crowd.outcomes()["error"] == 0
    assert report.picks == USERS * 5
    assert report.clean, report
