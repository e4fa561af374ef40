"""Soak the running bot: moderate load for a long while, its memory sampled each minute.

New simulated users (testing/crowd.py) keep arriving for ``--minutes`` minutes, so
that the crowd sends ``--rate`` updates per second; each searches, picks five movies,
asks for /recommend and /explore. The bot is a `moviebot run` process of its own with
the local embedder and real Redis (127.0.0.1:6379, under a key prefix of the soak's
own, deleted at the end), on the full catalog when ../shared is there.

The report (markdown, to stdout) has the bot's resident memory each minute, the trend
of the second half (after the caches have filled) in MiB per hour, and the audit of
every user's profile::

    python benchmarks/soak.py [--minutes 30] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from testing.benchmarking import (
    DEFAULT_CATALOG,
    MemorySampler,
    audited,
    local_bot,
    table,
    workspace,
)
from testing.crowd import JOURNEY, Crowd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="updates per second")
    parser.add_argument("--catalog", default=DEFAULT_CATALOG)
    args = parser.parse_args()

    with workspace(args.catalog, "soak") as (scratch, index_dir, prefix):
        print(asyncio.run(soak(args, index_dir, prefix, scratch)))


async def soak(args: argparse.Namespace, index_dir: Path, prefix: str, scratch: Path) -> str:
    ramp = 60 * args.minutes
    users = round(args.rate * ramp / len(JOURNEY))
    memory: list[float] = []
    with local_bot(index_dir, prefix, scratch) as (fake, bot):
        crowd = Crowd(fake, users=list(range(100_000, 100_000 + users)), ramp=ramp)
        print(f"{users} users over {args.minutes:g} min ...", file=sys.stderr)
        memory.append(bot.memory_mib())
        started = time.monotonic()
        with MemorySampler(bot, memory, every=60.0):
            await crowd.run()
        minutes = (time.monotonic() - started) / 60
        peak = bot.peak_memory_mib()
    report = await audited(crowd, index_dir, prefix)

    outcomes = crowd.outcomes()
    half = memory[min(len(memory) // 2, len(memory) - 2) :]  # at least two samples
    trend = 60 * statistics.linear_regression(range(len(half)), half).slope
    lines = [
        f"## Soak: {users:,} users over {minutes:.1f} min at {args.rate:g} updates/s",
        "",
        *table(
            " | ".join(["minute", *map(str, range(len(memory)))]),
            [["RSS MiB", *(f"{m:.0f}" for m in memory)]],
            left=1,
        ),
        "",
        f"- peak RSS {peak:.0f} MiB; trend over the second half {trend:+.1f} MiB per hour",
        f"- answers: {outcomes['ok']:,} ok, {outcomes['try again']} try again,"
        f" {outcomes['error']} errors, {outcomes['no answer']} unanswered;"
        f" {len(crowd.finished):,}/{users:,} users finished",
        f"- audit: {report.picks:,} acknowledged picks, {len(report.lost)} lost,"
        f" {len(report.unannounced)} stored but not acknowledged,"
        f" {len(report.doubled)} counted twice, {len(report.wrong_vectors)} vectors off",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
