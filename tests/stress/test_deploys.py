"""A deploy or a crash in the middle of the weekly push: every user gets the week's push.

1,000 due subscribers, half on Telegram and half on Discord; a ``moviebot run`` process
is stopped once a quarter of them have their push, and a second one sends the rest.
The table of the same runs comes from benchmarks/bench_deploys.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.deploys import deploy_during_push

pytestmark = pytest.mark.stress
USERS = 1_000


async def test_a_deploy_mid_push_sends_every_push_once(
    sample_index_dir: Path, redis_prefix: str, tmp_path: Path
) -> None:
    run = await deploy_during_push("sigterm", USERS, sample_index_dir, redis_prefix, tmp_path)

    assert run.sent_at_stop < USERS
    assert run.unsettled_at_stop == 0  # the sends in flight were let finish
    for platform in ("telegram", "discord"):
        assert run.missed(platform) == 0
        assert run.duplicates(platform) == 0


async def test_a_crash_mid_push_sends_every_push_duplicating_at_most_those_in_flight(
    sample_index_dir: Path, redis_prefix: str, tmp_path: Path
) -> None:
    run = await deploy_during_push("sigkill", USERS, sample_index_dir, redis_prefix, tmp_path)

    assert run.sent_at_stop < USERS
    assert run.missed("telegram") == run.missed("discord") == 0
    assert run.duplicates("discord") == 0  # the nonce
    assert run.duplicates("telegram") <= run.unsettled_at_stop
