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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.index import MovieIndex
from core.stores.redis import RedisProfileStore
from testing.audit import Audit, audit
from testing.bot_process import MOVIEBOT, BotProcess
from testing.crowd import JOURNEY, Crowd, Exchange
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.telegram_api import FakeTelegram

FULL_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "data" / "movies.parquet"
DEFAULT_CATALOG = str(FULL_CATALOG) if FULL_CATALOG.exists() else "sample"
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


@contextmanager
def workspace(catalog: str, name: str) -> Iterator[tuple[Path, Path, str]]:
    """A scratch folder, ``catalog`` indexed in it, and a Redis key prefix of the run's
    own: ``(scratch, index_dir, prefix)``; the keys are deleted afterwards."""
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = built_index(catalog, Path(scratch))
        prefix = f"{name}-{uuid.uuid4().hex[:8]}"
        try:
            yield Path(scratch), index_dir, prefix
        finally:
            asyncio.run(delete_prefix(prefix))


@contextmanager
def local_bot(
    index_dir: Path, prefix: str, scratch: Path
) -> Iterator[tuple[FakeTelegram, BotProcess]]:
    """The Bot API stand-in, and `moviebot run` answering it on ``index_dir`` with the
    local Redis under ``prefix``."""
    settings = {
        "MOVIEBOT_INDEX_DIR": str(index_dir),
        "MOVIEBOT_REDIS_URL": LOCAL_REDIS,
        "MOVIEBOT_REDIS_PREFIX": prefix,
    }
    with FakeTelegram() as fake, BotProcess(fake.url, scratch / "bot.log", **settings) as bot:
        yield fake, bot


async def audited(crowd: Crowd, index_dir: Path, prefix: str) -> Audit:
    """The audit of every user of ``crowd`` in the local Redis under ``prefix``."""
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    try:
        return await audit(crowd, store, MovieIndex.load(index_dir))
    finally:
        await store.close()


def p99(seconds: list[float]) -> float:
    """The 99th percentile of sorted ``seconds`` (0 when there are none)."""
    return seconds[min(len(seconds) - 1, int(0.99 * len(seconds)))] if seconds else 0.0


def built_index(catalog: str, scratch: Path) -> Path:
    """``catalog`` indexed by `moviebot build-index` (local model, embeddings cached)."""
    index_dir = scratch / "index"
    print(f"building the index of {catalog} ...", file=sys.stderr)
    command = [MOVIEBOT, "build-index", "--source", catalog, "--out", str(index_dir)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return index_dir


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


class MemorySampler:
    """Samples the bot's resident memory every ``every`` seconds while the block runs."""

    def __init__(self, bot: BotProcess, samples: list[float], every: float = 1.0) -> None:
        self._bot, self._samples, self._every = bot, samples, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self._samples.append(self._bot.memory_mib())


def report(args: argparse.Namespace, run: Run) -> str:
    exchanges = run.crowd.exchanges
    outcomes = run.crowd.outcomes()
    crowd = run.crowd
    lines = [
        f"## Load: {args.users} users arriving over {crowd.ramp:g} s"
        f" ({crowd.rate:g} updates/s offered), catalog {Path(args.catalog).name}",
        "",
        "| updates | seconds | busiest 10 s, updates/s | ok | try again | error | no answer |"
        " users finished | bot CPU ms/update | bot peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(exchanges):,} | {run.seconds:.1f} | {busiest(exchanges):.1f}"
        f" | {outcomes['ok']:,} | {outcomes['try again']} | {outcomes['error']}"
        f" | {outcomes['no answer']} | {len(run.crowd.finished)}/{args.users}"
        f" | {1000 * run.cpu_seconds / len(exchanges):.2f} | {max(run.memory):.0f} |",
        "",
        "| step | answers | p50 ms | p99 ms | max ms | target p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, target in TARGET_P99.items():
        lines.append(latency_row(step, [e for e in exchanges if e.step == step], target))
    audited = run.audit
    lines += [
        "",
        "| users audited | picks acknowledged | lost | stored but not acknowledged"
        " | counted twice | vectors off their replay |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {audited.users} | {audited.picks:,} | {len(audited.lost)}"
        f" | {len(audited.unannounced)} | {len(audited.doubled)}"
        f" | {len(audited.wrong_vectors)} |",
    ]
    return "\n".join(lines)


def busiest(exchanges: list[Exchange], window: float = 10.0) -> float:
    """Updates per second in the busiest ``window`` seconds."""
    sent = sorted(e.sent for e in exchanges)
    most, first = 0, 0
    for last, at in enumerate(sent):
        while at - sent[first] > window:
            first += 1
        most = max(most, last - first + 1)
    return most / window


def latency_row(step: str, exchanges: list[Exchange], target: float | None) -> str:
    seconds = sorted(e.seconds for e in exchanges if e.outcome == "ok" and e.seconds is not None)
    if not seconds:
        return f"| {step} | 0 | | | | |"
    p50 = statistics.median(seconds)
    goal = f"{1000 * target:.0f} ms" if target else ""
    return (
        f"| {step} | {len(seconds):,} | {1000 * p50:.0f} | {1000 * p99(seconds):.0f}"
        f" | {1000 * seconds[-1]:.0f} | {goal} |"
    )


if __name__ == "__main__":
    main()
