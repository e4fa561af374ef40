"""Benchmark RedisProfileStore on a Redis Cluster: picks/s, latency, lost or doubled picks.

Starts three redis-server nodes of its own (free ports, a temporary directory), joins them
in a cluster with redis-cli, and repeats bench_store.py's throughput runs against it, in
one bot process: each user's update is a transaction of its own there (see the module
docstring of core/stores/redis.py). Run from the repository root::

    python benchmarks/bench_cluster.py [--picks-per-user 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_store import (
    CATALOG_SIZE,
    CONCURRENT_USERS,
    DIM,
    SOLO_PICKS,
    doubled_picks,
    lost_picks,
    pick_plan,
    random_index,
    recommender_on,
    timed_picks,
)

from core.index import MovieIndex
from core.stores.redis import RedisProfileStore
from testing.redis_servers import RedisCluster


async def run(url: str, index: MovieIndex, users: int, picks: int) -> str:
    store = RedisProfileStore.from_url(url, prefix=f"bench-{users}", cluster=True)
    plan = pick_plan(index, users, picks, f"cluster-{users}")
    started = time.perf_counter()
    latencies, cpu = await timed_picks(recommender_on(store, index), plan)
    seconds = time.perf_counter() - started
    lost = await lost_picks(store, index, plan)
    doubled = await doubled_picks(store, recommender_on(store, index), plan)
    await store.close()
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    return (
        f"| {users} | {len(latencies):,} | {len(latencies) / seconds:,.0f} | {p50:.2f} "
        f"| {p99:.2f} | {lost} | {doubled} | {cpu / len(latencies) * 1e6:.0f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--picks-per-user", type=int, default=50)
    args = parser.parse_args()
    index = random_index(CATALOG_SIZE, DIM)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        cluster = RedisCluster(Path(directory))
        cluster.start()
        try:
            for users in CONCURRENT_USERS:
                picks = SOLO_PICKS if users == 1 else args.picks_per_user
                print(f"{users} users x {picks} picks ...", file=sys.stderr)
                rows.append(await run(cluster.url, index, users, picks))
        finally:
            cluster.stop()
    print(
        f"Machine: {os.cpu_count()} cores, 1-minute load average {os.getloadavg()[0]:.1f}; "
        "a 3-node cluster on this machine, one bot process.\n\n"
        "| concurrent users | picks | picks/s | p50 ms | p99 ms | lost | doubled "
        "| bot CPU us/pick |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows)
    )


if __name__ == "__main__":
    asyncio.run(main())
