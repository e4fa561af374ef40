"""Benchmark RedisProfileStore on a Redis Cluster: picks/s, latency, lost or doubled picks.

Starts three redis-server nodes of its own (free ports, a temporary directory), joins them
in a cluster with redis-cli, and repeats bench_store.py's throughput runs against it, in
one bot process: each user's update is a transaction of its own there (see the package
docstring of core/stores/redis/). Run from the repository root::

    python benchmarks/bench_cluster.py [--picks-per-user 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from testing.benchmarking import (
    CONCURRENT_USERS,
    SOLO_PICKS,
    RunResult,
    random_index,
    run_picks,
    table,
)
from testing.redis_servers import RedisCluster


def cells(run: RunResult) -> list[object]:
    """A throughput run as a row of the table."""
    return [run.users, *run.cells(), f"{run.client_cpu_us:.0f}"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--picks-per-user", type=int, default=50)
    args = parser.parse_args()
    index = random_index()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        cluster = RedisCluster(Path(directory))
        cluster.start()
        try:
            for users in CONCURRENT_USERS:
                picks = SOLO_PICKS if users == 1 else args.picks_per_user
                print(f"{users} users x {picks} picks ...", file=sys.stderr)
                run = await run_picks(cluster.url, "bench", index, users, picks, cluster=True)
                rows.append(cells(run))
        finally:
            cluster.stop()
    print(
        f"Machine: {os.cpu_count()} cores, 1-minute load average {os.getloadavg()[0]:.1f}; "
        "a 3-node cluster on this machine, one bot process.\n"
    )
    columns = (
        "concurrent users | picks | picks/s | p50 ms | p99 ms | lost | doubled | bot CPU us/pick"
    )
    print("\n".join(table(columns, rows)))


if __name__ == "__main__":
    asyncio.run(main())
