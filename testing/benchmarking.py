"""What the benchmarks share: percentiles and markdown tables; picks through the
Recommender into a store, checked afterwards; and a workspace where a `moviebot run`
process answers simulated Telegram users on the local Redis."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from redis.asyncio import Redis

from core.index import MovieIndex
from core.models import Movie, UserRef
from core.ports import ProfileStore
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from core.taste import TasteSettings, replay_picks
from testing.audit import Audit, audit
from testing.bot_process import MOVIEBOT, BotProcess
from testing.crowd import Crowd
from testing.data import SHARED_DATA
from testing.doubles import FixedEmbedder
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.telegram_api import FakeTelegram

CATALOG_SIZE = 5_000
DIM = 384
CONCURRENT_USERS = (1, 50, 200)
SOLO_PICKS = 1_000  # one user alone makes this many picks, for a steadier figure
NOW = 1_700_000_000.0
FULL_CATALOG = SHARED_DATA / "movies.parquet"
DEFAULT_CATALOG = str(FULL_CATALOG) if FULL_CATALOG.exists() else "sample"


def percentile(values: Iterable[float], q: int) -> float:
    """The ``q``-th percentile (1 to 99) of ``values``, interpolated between the two
    nearest as numpy does by default; 0 when there are none."""
    data = [float(value) for value in values]
    if len(data) < 2:
        return data[0] if data else 0.0
    return statistics.quantiles(data, n=100, method="inclusive")[q - 1]


def p50(values: Iterable[float]) -> float:
    return percentile(values, 50)


def p99(values: Iterable[float]) -> float:
    return percentile(values, 99)


def table(columns: str, rows: Iterable[Sequence[object]], left: int = 0) -> list[str]:
    """A markdown table, one string a line. ``columns`` names the columns as the table's
    first line does (``"users | picks/s"``); the first ``left`` of them hold text and are
    aligned left, the others right."""
    names = columns.split(" | ")
    rule = ["---"] * left + ["---:"] * (len(names) - left)
    return [_table_line(names), _table_line(rule), *(_table_line(row) for row in rows)]


def _table_line(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


async def redis_cpu_seconds(client: Redis) -> float:
    """CPU time the Redis server has used so far (user + system)."""
    cpu = await client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


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

    def percentile(self, q: int) -> float:
        return percentile(self.latencies_ms, q)

    def cells(self) -> list[object]:
        """Picks, picks/s, p50 and p99 ms, lost and doubled: the columns every
        throughput table shows."""
        return [
            f"{self.picks:,}",
            f"{self.picks_per_second:,.0f}",
            f"{self.percentile(50):.2f}",
            f"{self.percentile(99):.2f}",
            self.lost,
            self.doubled,
        ]


async def run_picks(
    url: str,
    prefix: str,
    index: MovieIndex,
    users: int,
    picks_per_user: int,
    processes: int = 1,
    cluster: bool = False,
) -> RunResult:
    """``users`` users each make ``picks_per_user`` picks at once, in one process or
    several; then every user is checked, and every pick sent again must change nothing.
    The Redis CPU time is that of the server at ``url`` (on a cluster, one node's)."""
    tag = f"{users}x{processes}"
    plan = pick_plan(index, users, picks_per_user, tag)
    store = RedisProfileStore.from_url(url, prefix=prefix, cluster=cluster)
    server = Redis.from_url(url)
    server_cpu = await redis_cpu_seconds(server)
    if processes == 1:
        started = time.perf_counter()
        latencies, client_cpu = await timed_picks(recommender_on(store, index), plan)
        seconds = time.perf_counter() - started
    else:
        run = await asyncio.to_thread(picks_in_processes, url, prefix, cluster, plan, processes)
        latencies, client_cpu, seconds = run
    client_us = client_cpu / len(latencies) * 1e6
    server_us = (await redis_cpu_seconds(server) - server_cpu) / len(latencies) * 1e6
    lost = await lost_picks(store, index, plan)
    doubled = await doubled_picks(store, recommender_on(store, index), plan)
    await store.close()
    await server.aclose()
    return RunResult(
        users, processes, len(latencies), seconds, latencies, lost, doubled, client_us, server_us
    )


def picks_in_processes(
    url: str, prefix: str, cluster: bool, plan: dict[UserRef, list[int]], processes: int
) -> tuple[list[float], float, float]:
    """The plan's users shared out over worker processes: latencies, CPU and wall seconds."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes + 1), context.Queue()
    users = list(plan)
    workers = [
        context.Process(
            target=picks_in_a_process,
            args=(url, prefix, cluster, {u: plan[u] for u in users[n::processes]}, start, results),
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


def picks_in_a_process(
    url: str, prefix: str, cluster: bool, plan: dict[UserRef, list[int]], start: Any, results: Any
) -> None:
    """A worker process: its own index, store and Recommender; picks once all are ready."""

    async def work() -> None:
        store = RedisProfileStore.from_url(url, prefix=prefix, cluster=cluster)
        recommender = recommender_on(store, random_index())
        start.wait()
        results.put(await timed_picks(recommender, plan))
        await store.close()

    asyncio.run(work())


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


async def lost_picks(store: ProfileStore, index: MovieIndex, plan: dict[UserRef, list[int]]) -> int:
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
    store: ProfileStore, recommender: Recommender, plan: dict[UserRef, list[int]]
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


def recommender_on(store: ProfileStore, index: MovieIndex) -> Recommender:
    """A Recommender whose clock stands still, so a replay without time decay is exact."""
    embedder = FixedEmbedder(index.manifest.embedder, index.dim)
    return Recommender(index, embedder, store, clock=lambda: NOW)


def random_index(count: int = CATALOG_SIZE, dim: int = DIM) -> MovieIndex:
    """``count`` made-up movies with random unit vectors, searched exactly."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    movies = [Movie(movie_id=10_000 + i, title=f"Movie {i}") for i in range(count)]
    return MovieIndex.from_vectors(movies, vectors, "bench:random")


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


def built_index(catalog: str, scratch: Path) -> Path:
    """``catalog`` indexed by `moviebot build-index` (local model, embeddings cached)."""
    index_dir = scratch / "index"
    print(f"building the index of {catalog} ...", file=sys.stderr)
    command = [MOVIEBOT, "build-index", "--source", catalog, "--out", str(index_dir)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return index_dir


@contextmanager
def local_bot(
    index_dir: Path, prefix: str, scratch: Path, **environment: str
) -> Iterator[tuple[FakeTelegram, BotProcess]]:
    """The Bot API stand-in, and `moviebot run` answering it on ``index_dir`` with the
    local Redis under ``prefix`` (and ``environment`` added to its own)."""
    settings = {
        "MOVIEBOT_INDEX_DIR": str(index_dir),
        "MOVIEBOT_REDIS_URL": LOCAL_REDIS,
        "MOVIEBOT_REDIS_PREFIX": prefix,
        **environment,
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
