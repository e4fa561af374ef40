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
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from redis.asyncio import Redis

from core.index import MovieIndex
from core.models import Movie, TasteProfile, UndoAction, UndoStep, UserRef, Vectors
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from core.taste import TasteSettings, ema_step, replay_picks

REPO_ROOT = Path(__file__).resolve().parents[1]
DEPLOY_CONFIG = REPO_ROOT / "deploy" / "redis.conf"
CATALOG_SIZE = 5_000
DIM = 384
CONCURRENT_USERS = (1, 50, 200)
SOLO_PICKS = 1_000  # one user alone makes this many picks, for a steadier figure
MEMORY_USERS = 1_000
MEMORY_PICKS = (1, 20)
TARGET_PICKS_PER_SECOND = 5_000
FSYNC_ROUNDS = 2
MACHINE_CORES = 2
NOW = 1_700_000_000.0


@dataclass(frozen=True, slots=True)
class RunResult:
    """One throughput run: how many users, picks, seconds, latencies and errors."""

    users: int
    processes: int
    picks: int
    seconds: float
    latencies_ms: list[float]
    lost: int
    doubled: int
    client_cpu_us: float
    server_cpu_us: float

    @property
    def picks_per_second(self) -> float:
        return self.picks / self.seconds

    @property
    def ceiling_on_idle_cores(self) -> float:
        """The most picks/s the CPU time measured allows on ``MACHINE_CORES`` idle cores:
        each bot process uses one core at most, and bot and Redis share them all."""
        bot = self.processes * 1e6 / self.client_cpu_us
        shared = MACHINE_CORES * 1e6 / (self.client_cpu_us + self.server_cpu_us)
        return min(bot, shared)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))


class FixedEmbedder:
    """Stands in for the model: the benchmark never embeds text."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = dim

    def embed_documents(self, texts: object) -> Vectors:
        raise NotImplementedError

    def embed_query(self, text: str) -> Vectors:
        raise NotImplementedError


def random_index(count: int, dim: int) -> MovieIndex:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    movies = [Movie(movie_id=10_000 + i, title=f"Movie {i}") for i in range(count)]
    return MovieIndex.from_vectors(movies, vectors, "bench:random")


def recommender_on(store: RedisProfileStore, index: MovieIndex) -> Recommender:
    """A Recommender whose clock stands still, so a replay without time decay is exact."""
    embedder = FixedEmbedder(index.manifest.embedder, index.dim)
    return Recommender(index, embedder, store, clock=lambda: NOW)


def pick_plan(
    index: MovieIndex, users: int, picks_per_user: int, tag: str
) -> dict[UserRef, list[int]]:
    """Which distinct movies each simulated user picks, in order."""
    rng = np.random.default_rng(users)
    movie_ids = [movie.movie_id for movie in index.movies]
    return {
        UserRef("bench", f"{tag}-{u}"): [
            int(i) for i in rng.choice(movie_ids, picks_per_user, replace=False)
        ]
        for u in range(users)
    }


async def timed_picks(
    recommender: Recommender, plan: dict[UserRef, list[int]]
) -> tuple[list[float], float]:
    """One task per user picking its movies one after another: latencies (ms), CPU (s)."""
    latencies: list[float] = []

    async def user_loop(user: UserRef, ids: list[int]) -> None:
        for movie_id in ids:
            started = time.perf_counter()
            await recommender.pick(user, movie_id, f"tap-{movie_id}")
            latencies.append((time.perf_counter() - started) * 1000)

    cpu = time.process_time()
    await asyncio.gather(*(user_loop(user, ids) for user, ids in plan.items()))
    return latencies, time.process_time() - cpu


def picks_in_a_process(
    url: str, prefix: str, plan: dict[UserRef, list[int]], start: Any, results: Any
) -> None:
    """A worker process: its own index, store and Recommender; picks once all are ready."""

    async def work() -> None:
        store = RedisProfileStore.from_url(url, prefix=prefix)
        recommender = recommender_on(store, random_index(CATALOG_SIZE, DIM))
        start.wait()
        results.put(await timed_picks(recommender, plan))
        await store.close()

    asyncio.run(work())


def picks_in_processes(
    url: str, prefix: str, plan: dict[UserRef, list[int]], processes: int
) -> tuple[list[float], float, float]:
    """The plan's users shared out over worker processes: latencies, CPU and wall seconds."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes + 1), context.Queue()
    users = list(plan)
    workers = [
        context.Process(
            target=picks_in_a_process,
            args=(url, prefix, {u: plan[u] for u in users[n::processes]}, start, results),
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    parts = [results.get() for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    latencies = [latency for part_latencies, _ in parts for latency in part_latencies]
    return latencies, sum(cpu for _, cpu in parts), seconds


async def run_picks(
    url: str, prefix: str, index: MovieIndex, users: int, picks_per_user: int, processes: int = 1
) -> RunResult:
    """``users`` users each make ``picks_per_user`` picks at once, in one process or
    several; then every user is checked, and every pick sent again must change nothing."""
    tag = f"{users}x{processes}"
    plan = pick_plan(index, users, picks_per_user, tag)
    store = RedisProfileStore.from_url(url, prefix=prefix)
    server = Redis.from_url(url)
    server_cpu = await cpu_seconds(server)
    if processes == 1:
        started = time.perf_counter()
        latencies, client_cpu = await timed_picks(recommender_on(store, index), plan)
        seconds = time.perf_counter() - started
    else:
        run = await asyncio.to_thread(picks_in_processes, url, prefix, plan, processes)
        latencies, client_cpu, seconds = run
    client_us = client_cpu / len(latencies) * 1e6
    server_us = (await cpu_seconds(server) - server_cpu) / len(latencies) * 1e6
    lost = await lost_picks(store, index, plan)
    doubled = await doubled_picks(store, recommender_on(store, index), plan)
    await store.close()
    await server.aclose()
    return RunResult(
        users, processes, len(latencies), seconds, latencies, lost, doubled, client_us, server_us
    )


async def cpu_seconds(server: Redis) -> float:
    """CPU time the Redis server has used so far (user + system)."""
    cpu = await server.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def lost_picks(
    store: RedisProfileStore, index: MovieIndex, plan: dict[UserRef, list[int]]
) -> int:
    """Picks missing from a profile, plus 1 for each vector that is not the replay."""
    lost = 0
    for user, ids in plan.items():
        profile = await store.load(user)
        picked = profile.picked if profile else ()
        lost += len(set(ids) - set(picked))
        if profile is not None and profile.vector is not None:
            expected = replay_picks([index.vector(i) for i in picked], TasteSettings().ema_weight)
            lost += not np.allclose(profile.vector, expected, atol=1e-5)
    return lost


async def doubled_picks(
    store: RedisProfileStore, recommender: Recommender, plan: dict[UserRef, list[int]]
) -> int:
    """Send every pick again with its key, concurrently: count what was applied or counted."""
    every_movie = sorted({i for ids in plan.values() for i in ids})
    counts_before = await store.pick_counts(every_movie)
    replays = await asyncio.gather(
        *(
            recommender.pick(user, movie_id, f"tap-{movie_id}")
            for user, ids in plan.items()
            for movie_id in ids
        )
    )
    counts_after = await store.pick_counts(every_movie)
    moved = sum(abs(a - b) for a, b in zip(counts_after, counts_before, strict=True))
    return sum(result.applied for result in replays) + moved


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def private_redis(*options: str) -> Iterator[str]:
    """A redis-server with deploy/redis.conf on a free port and a temporary directory."""
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = ["redis-server", str(DEPLOY_CONFIG), "--port", str(port), "--dir", directory]
        process = subprocess.Popen([*command, *options], stdout=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} did not start")


async def delete_prefix(client: Redis, prefix: str) -> None:
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.delete(key)


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
        client = Redis.from_url(url)
        await delete_prefix(client, prefix)
        await client.aclose()


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
        await delete_prefix(client, prefix)
        await client.aclose()


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
        "| concurrent users | bot processes | picks | picks/s | p50 ms | p99 ms | lost "
        "| doubled | bot CPU us/pick | Redis CPU us/pick | ceiling picks/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.users} | {r.processes} | {r.picks:,} | {r.picks_per_second:,.0f} "
            f"| {r.percentile(50):.2f} "
            f"| {r.percentile(99):.2f} | {r.lost} | {r.doubled} | {r.client_cpu_us:.0f} "
            f"| {r.server_cpu_us:.0f} | {r.ceiling_on_idle_cores:,.0f} |"
        )
    lines.append("")
    for r in results:
        if r.users == CONCURRENT_USERS[-1]:
            verdict = "met" if r.picks_per_second >= TARGET_PICKS_PER_SECOND else "MISSED"
            lines.append(
                f"Target >= {TARGET_PICKS_PER_SECOND:,} picks/s with {r.users} users, "
                f"{r.processes} bot process(es): {verdict} ({r.picks_per_second:,.0f})."
            )
    lines += [
        "",
        "| dims | picks per user | bytes per user | 1M users |",
        "|---:|---:|---:|---:|",
    ]
    for (dim, picks), size in sizes.items():
        lines.append(f"| {dim} | {picks} | {size:,.0f} | {size * 1e6 / 2**30:.1f} GiB |")
    lines += [
        "",
        f"| appendfsync (deploy/redis.conf, best of {FSYNC_ROUNDS}) | concurrent users "
        "| picks/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {policy} | {users} | {r.picks_per_second:,.0f} | {r.percentile(50):.2f} "
            f"| {r.percentile(99):.2f} |"
            for (policy, users), r in sorted(fsync.items(), key=lambda item: item[0][::-1])
        ),
    ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--picks-per-user", type=int, default=50)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    index = random_index(CATALOG_SIZE, DIM)
    results = await throughput(args.redis, index, args.picks_per_user)
    sizes = await memory(args.redis)
    fsync = await fsync_cost(index, args.picks_per_user)
    print(report(results, sizes, fsync, load_before))


if __name__ == "__main__":
    asyncio.run(main())
