"""Benchmark the running bot under load: simulated Telegram users, one bot process.

``--users`` simulated users (testing/crowd.py) each search, pick the five movies
found, ask for /recommend, then /explore, through the local stand-in of the Telegram
Bot API. They arrive one after another so that, once under way, the crowd sends
``--rate`` updates per second, a steady mix of every step; ``--ramp`` makes them all
arrive within that many seconds instead (a burst of searches). The bot is a `moviebot run`
process of its own with the local embedder, real Redis (127.0.0.1:6379, under a key
prefix of the benchmark's own, deleted at the end) and the full catalog when
../shared/data/movies.parquet is there (the bundled sample otherwise).

Afterwards every user's stored profile is checked against what they were told: the
acknowledged picks, in order, and the taste vector replayed from them. The report
(markdown) goes to stdout, progress to stderr::

    python benchmarks/bench_load.py [--users 500] [--rate 50 | --ramp 10] [--catalog PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from testing.audit import Audit
from testing.benchmarking import (
    DEFAULT_CATALOG,
    MemorySampler,
    audited,
    local_bot,
    p50,
    p99,
    table,
    workspace,
)
from testing.crowd import JOURNEY, Crowd, Exchange

TARGET_P99 = {"search": 2.0, "pick": None, "recommend": 1.0, "explore": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="updates per second")
    parser.add_argument("--ramp", type=float, help="seconds in which every user arrives")
    parser.add_argument("--catalog", default=DEFAULT_CATALOG)
    args = parser.parse_args()

    ramp = args.ramp or args.users * len(JOURNEY) / args.rate
    with workspace(args.catalog, "bench-load") as (scratch, index_dir, prefix):
        run = asyncio.run(load(args.users, ramp, index_dir, prefix, scratch))
    print(report(args, run))


class Run:
    """What one load run measured."""

    def __init__(self, crowd: Crowd, seconds: float, memory: list[float], cpu: float) -> None:
        self.crowd, self.seconds, self.memory, self.cpu_seconds = crowd, seconds, memory, cpu
        self.audit = Audit()


async def load(users: int, ramp: float, index_dir: Path, prefix: str, scratch: Path) -> Run:
    with local_bot(index_dir, prefix, scratch) as (fake, bot):
        crowd = Crowd(fake, users=list(range(10_000, 10_000 + users)), ramp=ramp)
        memory: list[float] = []
        sampler = MemorySampler(bot, memory)
        cpu_before = bot.cpu_seconds()
        print(f"{users} users arriving over {ramp:g} s ...", file=sys.stderr)
        started = time.monotonic()
        with sampler:
            await crowd.run()
        run = Run(crowd, time.monotonic() - started, memory, bot.cpu_seconds() - cpu_before)
        memory.append(bot.peak_memory_mib())
    run.audit = await audited(crowd, index_dir, prefix)
    return run


def report(args: argparse.Namespace, run: Run) -> str:
    crowd, exchanges, audit = run.crowd, run.crowd.exchanges, run.audit
    outcomes = crowd.outcomes()
    return "\n".join(
        [
            f"## Load: {args.users} users arriving over {crowd.ramp:g} s"
            f" ({crowd.rate:g} updates/s offered), catalog {Path(args.catalog).name}",
            "",
            *table(
                "updates | seconds | busiest 10 s, updates/s | ok | try again | error"
                " | no answer | users finished | bot CPU ms/update | bot peak RSS MiB",
                [
                    [
                        f"{len(exchanges):,}",
                        f"{run.seconds:.1f}",
                        f"{busiest(exchanges):.1f}",
                        f"{outcomes['ok']:,}",
                        outcomes["try again"],
                        outcomes["error"],
                        outcomes["no answer"],
                        f"{len(crowd.finished)}/{args.users}",
                        f"{1000 * run.cpu_seconds / len(exchanges):.2f}",
                        f"{max(run.memory):.0f}",
                    ]
                ],
            ),
            "",
            *table(
                "step | answers | p50 ms | p99 ms | max ms | target p99",
                [
                    latency_cells(step, [e for e in exchanges if e.step == step], target)
                    for step, target in TARGET_P99.items()
                ],
                left=1,
            ),
            "",
            *table(
                "users audited | picks acknowledged | lost | stored but not acknowledged"
                " | counted twice | vectors off their replay",
                [
                    [
                        audit.users,
                        f"{audit.picks:,}",
                        len(audit.lost),
                        len(audit.unannounced),
                        len(audit.doubled),
                        len(audit.wrong_vectors),
                    ]
                ],
            ),
        ]
    )


def busiest(exchanges: list[Exchange], window: float = 10.0) -> float:
    """Updates per second in the busiest ``window`` seconds."""
    sent = sorted(e.sent for e in exchanges)
    most, first = 0, 0
    for last, at in enumerate(sent):
        while at - sent[first] > window:
            first += 1
        most = max(most, last - first + 1)
    return most / window


def latency_cells(step: str, exchanges: list[Exchange], target: float | None) -> list[object]:
    """The answers to ``step`` and their p50, p99 and slowest milliseconds."""
    seconds = [e.seconds for e in exchanges if e.outcome == "ok" and e.seconds is not None]
    goal = f"{1000 * target:.0f} ms" if target else ""
    if not seconds:
        return [step, 0, "", "", "", goal]
    milliseconds = [f"{1000 * value:.0f}" for value in (p50(seconds), p99(seconds), max(seconds))]
    return [step, f"{len(seconds):,}", *milliseconds, goal]


if __name__ == "__main__":
    main()
