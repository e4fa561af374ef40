"""Benchmark faults under the full load: what users get, and what is lost (nothing).

For each fault of testing/faults.py (and a run without one), ``--users`` simulated
users (testing/crowd.py) talk to a `moviebot run` process through the Telegram
stand-in, arriving so that the crowd sends ``--rate`` updates per second; ``--at``
seconds in, the fault strikes. Each run has a redis-server of its own with
deploy/redis.conf (``bot_killed_with_embedded_redis``: the bot's embedded Redis, in a
data directory of its own), and the Ollama stand-in as embedder (so that it can fail
or hang), on the full catalog when ../shared is there. Afterwards every user's profile
is audited against what they were told. The table (markdown) goes to stdout::

    python benchmarks/bench_faults.py [--users 500] [--rate 50] [--at 20] [--fault NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from functools import partial
from pathlib import Path

from core.catalog import load_catalog
from core.embedders import OllamaEmbedder
from core.index import build_index
from testing.audit import Audit
from testing.benchmarking import DEFAULT_CATALOG, p99, table
from testing.crowd import JOURNEY, Crowd
from testing.faults import FAULTS, Rig, run_with_bot_killed_on_embedded_redis, run_with_fault
from testing.ollama_api import FakeOllama
from testing.telegram_api import FakeTelegram

PATIENCE = 15.0  # seconds a user waits for an answer before trying again


def no_fault(rig: Rig) -> None:
    """The baseline: nothing breaks."""


RUNS = {
    name: partial(run_with_fault, fault) for name, fault in {"none": no_fault, **FAULTS}.items()
}
RUNS["bot_killed_with_embedded_redis"] = run_with_bot_killed_on_embedded_redis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="updates per second")
    parser.add_argument("--at", type=float, default=20.0, help="seconds into the run")
    parser.add_argument("--fault", nargs="*", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--catalog", default=DEFAULT_CATALOG)
    args = parser.parse_args()

    rows = []
    with FakeOllama() as ollama, tempfile.TemporaryDirectory() as scratch:
        index_dir = Path(scratch) / "index"
        print(f"indexing {args.catalog} with the Ollama stand-in ...", file=sys.stderr)
        build_index(load_catalog(args.catalog), OllamaEmbedder(host=ollama.url)).save(index_dir)
        for name in args.fault:
            print(f"{name}: {args.users} users at {args.rate:g} updates/s ...", file=sys.stderr)
            with FakeTelegram() as fake:
                ramp = args.users * len(JOURNEY) / args.rate
                users = list(range(20_000, 20_000 + args.users))
                crowd = Crowd(fake, users=users, ramp=ramp, patience=PATIENCE)
                run = RUNS[name](crowd, ollama, index_dir, Path(scratch) / name, args.at)
                report, survived = asyncio.run(run)
            rows.append(cells(name, crowd, report, survived))
    print(f"## Faults: {args.users} users at {args.rate:g} updates/s, fault at {args.at:g} s\n")
    columns = (
        "fault | updates | ok | try again | no answer | p99 s | slowest s | users finished"
        " | bot ran on | lost | stored, not told | counted twice | vectors off"
    )
    print("\n".join(table(columns, rows, left=1)))


def cells(name: str, crowd: Crowd, report: Audit, survived: bool) -> list[object]:
    """A run with the fault ``name`` as a row of the table."""
    outcomes = crowd.outcomes()
    waits = [e.seconds for e in crowd.exchanges if e.outcome == "ok" and e.seconds is not None]
    return [
        name,
        f"{sum(outcomes.values()):,}",
        f"{outcomes['ok']:,}",
        outcomes["try again"],
        outcomes["no answer"],
        f"{p99(waits):.2f}",
        f"{max(waits, default=0):.1f}",
        f"{len(crowd.finished)}/{len(crowd.users)}",
        "yes" if survived else "no",
        len(report.lost),
        len(report.unannounced),
        len(report.doubled),
        len(report.wrong_vectors),
    ]


if __name__ == "__main__":
    main()
