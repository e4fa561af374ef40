"""Benchmark RedisProfileStore: picks/s, latency, lost or doubled picks, memory per user.

Picks go through the Recommender (``Recommender.pick`` with an idempotency key, as a
chat button press does) over a random 5,000-movie 384-d index. Each simulated user is
a task that picks 50 movies one after another; 1, 50 and 200 users run at once against
the local Redis (127.0.0.1:6379) under a key prefix of the benchmark's own, deleted at
the end; then 200 users again, shared out over two bot processes. Afterwards every user
must hold exactly their picks, with the vector of a sequential replay, and every pick
sent again with its key must change nothing.

Memory is MEMORY USAGE summed over each user's keys (one hash per user) plus the
user's share of the global pick counts, at 384 and 768 dims. The cost of
``appendfsync always`` is measured on redis-servers of our own (deploy/redis.conf,
temporary directory, free port). Run from the repository root; the report (markdown)
goes to stdout, progress to stderr::

    python benchmarks/bench_store.py [--redis URL] [--picks-per-user 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
from redis.asyncio import Redis

from core.index import MovieIndex
from core.models import TasteProfile, UndoAction, UndoStep, UserRef, Vectors
from core.stores.redis import RedisProfileStore
from core.taste import TasteSettings, ema_step
from testing.benchmarking import (
    CONCURRENT_USERS,
    NOW,
    SOLO_PICKS,
    RunResult,
    random_index,
    run_picks,
    table,
)
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.redis_servers import DEPLOY_CONFIG, RedisServer

MEMORY_USERS = 1_000
MEMORY_PICKS = (1, 20)
TARGET_PICKS_PER_SECOND = 5_000
FSYNC_ROUNDS = 2
MACHINE_CORES = 2


def ceiling_on_idle_cores(run: RunResult) -> float:
    """The most picks/s the CPU time measured allows on ``MACHINE_CORES`` idle cores:
    each bot process uses one core at most, and bot and Redis share them all."""
    bot = run.processes * 1e6 / run.client_cpu_us
    shared = MACHINE_CORES * 1e6 / (run.client_cpu_us + run.server_cpu_us)
    return min(bot, shared)


def profiles_after_picks(fingerprint: str, movies: Vectors) -> list[TasteProfile]:
    """The profile after each pick of ``movies``, with the undo history the bot keeps."""
    profiles = []
    profile = TasteProfile(fingerprint)
    for n, movie in enumerate(movies):
        step = UndoStep(UndoAction.PICK, 10_000 + n, profile.vector, profile.last_pick_at)
        profile = replace(
            profile,
            vector=ema_step(profile.vector, movie, TasteSettings().ema_weight),
            picked=(*profile.picked, 10_000 + n),
            last_pick_at=NOW + n,
            undo=(*profile.undo, step)[-TasteSettings().undo_depth :],
        )
        profiles.append(profile)
    return profiles


async def memory_per_user(store: RedisProfileStore, client: Redis, dim: int, picks: int) -> float:
    """Bytes of Redis memory per user after ``picks`` picks, each with a callback-id-like
    idempotency key, at ``dim`` dimensions; the global pick counts are shared out."""
    rng = np.random.default_rng(dim)
    movies = rng.standard_normal((picks, dim)).astype(np.float32)
    movies /= np.linalg.norm(movies, axis=1, keepdims=True)
    profiles = profiles_after_picks(f"bench-{dim}", movies)
    users = [UserRef("telegram", str(7_000_000_000 + n)) for n in range(MEMORY_USERS)]

    async def user_picks(user: UserRef) -> None:
        for n, profile in enumerate(profiles):
            key = str(4_000_000_000_000_000_000 + n)  # Telegram callback ids are this long
            await store.update(user, lambda _, profile=profile: profile, key)

    await asyncio.gather(*(user_picks(user) for user in users))
    total = 0
    for user in users:
        total += await client.memory_usage(store.keys.profile(user), samples=0) or 0
    counts = await client.memory_usage(store.keys.pick_counts, samples=0) or 0
    for user in users:
        await store.forget(user)
    return total / MEMORY_USERS + counts / MEMORY_USERS


async def throughput(url: str, index: MovieIndex, picks_per_user: int) -> list[RunResult]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    runs = [(users, 1) for users in CONCURRENT_USERS] + [(CONCURRENT_USERS[-1], 2)]
    try:
        results = []
        for users, processes in runs:
            picks = SOLO_PICKS if users == 1 else picks_per_user
            print(f"{users} users x {picks} picks, {processes} process(es) ...", file=sys.stderr)
            results.append(await run_picks(url, prefix, index, users, picks, processes))
        return results
    finally:
        await delete_prefix(prefix, url)


async def memory(url: str) -> dict[tuple[int, int], float]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    store = RedisProfileStore.from_url(url, prefix=prefix)
    client = Redis.from_url(url)
    try:
        sizes = {}
        for dim in (384, 768):
            for picks in MEMORY_PICKS:
                print(f"memory: {MEMORY_USERS} users, {dim}-d, {picks} picks ...", file=sys.stderr)
                sizes[dim, picks] = await memory_per_user(store, client, dim, picks)
        return sizes
    finally:
        await store.close()
        await client.aclose()
        await delete_prefix(prefix, url)


@contextmanager
def private_redis(*options: str) -> Iterator[str]:
    """The URL of a redis-server with deploy/redis.conf on a free port and a temporary
    directory."""
    with (
        tempfile.TemporaryDirectory() as directory,
        RedisServer(Path(directory), *options, config=DEPLOY_CONFIG) as server,
    ):
        yield server.url


async def fsync_cost(index: MovieIndex, picks_per_user: int) -> dict[tuple[str, int], RunResult]:
    """1 and 200 users on a fresh server per run, by policy; the policies take turns and
    the best of ``FSYNC_ROUNDS`` rounds counts."""
    best: dict[tuple[str, int], RunResult] = {}
    for round_number in range(FSYNC_ROUNDS):
        for users in (1, CONCURRENT_USERS[-1]):
            for policy in ("always", "everysec"):
                print(
                    f"appendfsync {policy}, {users} users, round {round_number + 1} ...",
                    file=sys.stderr,
                )
                picks = SOLO_PICKS if users == 1 else picks_per_user
                with private_redis("--appendfsync", policy) as url:
                    run = await run_picks(url, "moviebot", index, users, picks)
                key = policy, users
                if key not in best or run.picks_per_second > best[key].picks_per_second:
                    best[key] = run
    return best


def report(
    results: list[RunResult],
    sizes: dict[tuple[int, int], float],
    fsync: dict[tuple[str, int], RunResult],
    load_before: float,
) -> str:
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; 1-minute load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after. The ceiling is the most picks/s that the CPU "
        f"time measured per pick allows on {MACHINE_CORES} idle cores.",
        "",
        *table(
            "concurrent users | bot processes | picks | picks/s | p50 ms | p99 ms | lost"
            " | doubled | bot CPU us/pick | Redis CPU us/pick | ceiling picks/s",
            [run_cells(r) for r in results],
        ),
        "",
    ]
    for r in results:
        if r.users == CONCURRENT_USERS[-1]:
            verdict = "met" if r.picks_per_second >= TARGET_PICKS_PER_SECOND else "MISSED"
            lines.append(
                f"Target >= {TARGET_PICKS_PER_SECOND:,} picks/s with {r.users} users, "
                f"{r.processes} bot process(es): {verdict} ({r.picks_per_second:,.0f})."
            )
    lines += [
        "",
        *table(
            "dims | picks per user | bytes per user | 1M users",
            [
                (dim, picks, f"{size:,.0f}", f"{size * 1e6 / 2**30:.1f} GiB")
                for (dim, picks), size in sizes.items()
            ],
        ),
        "",
        *table(
            f"appendfsync (deploy/redis.conf, best of {FSYNC_ROUNDS}) | concurrent users"
            " | picks/s | p50 ms | p99 ms",
            [
                (policy, users, *speed(r))
                for (policy, users), r in sorted(fsync.items(), key=lambda item: item[0][::-1])
            ],
            left=1,
        ),
    ]
    return "\n".join(lines)


def run_cells(run: RunResult) -> list[object]:
    """A throughput run as a row of the table."""
    return [
        run.users,
        run.processes,
        f"{run.picks:,}",
        *speed(run),
        run.lost,
        run.doubled,
        f"{run.client_cpu_us:.0f}",
        f"{run.server_cpu_us:.0f}",
        f"{ceiling_on_idle_cores(run):,.0f}",
    ]


def speed(run: RunResult) -> tuple[str, str, str]:
    """Picks/s, p50 and p99 ms of a run, as table cells."""
    return f"{run.picks_per_second:,.0f}", f"{run.percentile(50):.2f}", f"{run.percentile(99):.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default=LOCAL_REDIS)
    parser.add_argument("--picks-per-user", type=int, default=50)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    index = random_index()
    results = await throughput(args.redis, index, args.picks_per_user)
    sizes = await memory(args.redis)
    fsync = await fsync_cost(index, args.picks_per_user)
    print(report(results, sizes, fsync, load_before))


if __name__ == "__main__":
    asyncio.run(main())
