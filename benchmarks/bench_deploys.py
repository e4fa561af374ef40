"""Benchmark a deploy (SIGTERM) and a crash (SIGKILL) in the middle of the weekly push.

Each run subscribes ``--users`` users (half on Telegram, half on Discord) due now, under
a key prefix of its own in the local Redis (127.0.0.1:6379, deleted at the end), starts
``moviebot run`` with the push on, stops it once a quarter of them have their push, and
starts a second ``moviebot run`` that sends the rest (see testing/deploys.py). The
stand-ins answer each message ``--latency`` seconds after storing it. Run from the
repository root; the table (markdown) goes to stdout::

    python benchmarks/bench_deploys.py [--users 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from pathlib import Path

from testing.benchmarking import table
from testing.deploys import DeployRun, Stop, deploy_during_push
from testing.local_redis import delete_prefix

COLUMNS = (
    "stop | users | sent at the stop | claims unsettled at the stop | SIGTERM to exit, s"
    " | missed, Telegram / Discord | duplicates, Telegram / Discord"
)


async def one_run(stop: Stop, users: int, latency: float) -> DeployRun:
    prefix = f"moviebot-bench-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as workdir:
        try:
            return await deploy_during_push(
                stop, users, Path(workdir) / "index", prefix, Path(workdir), latency
            )
        finally:
            await delete_prefix(prefix)


def row(run: DeployRun) -> list[object]:
    exit_seconds = "-" if run.exit_seconds is None else f"{run.exit_seconds:.1f}"
    return [
        run.stop,
        f"{run.users:,}",
        run.sent_at_stop,
        run.unsettled_at_stop,
        exit_seconds,
        f"{run.missed('telegram')} / {run.missed('discord')}",
        f"{run.duplicates('telegram')} / {run.duplicates('discord')}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind of stop")
    parser.add_argument("--latency", type=float, default=0.2)
    options = parser.parse_args()
    rows = [
        row(await one_run(stop, options.users, options.latency))
        for stop in ("sigterm", "sigkill")
        for _ in range(options.runs)
    ]
    print("\n".join(table(COLUMNS, rows, left=1)))


if __name__ == "__main__":
    asyncio.run(main())
