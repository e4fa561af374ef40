"""Benchmark ``/recommend`` in process, with the community's co-pick counts.

Two catalogs: the 4,803 movies of ../shared/data/movies.parquet (vectors from an index
built with the default model, ``--index``), and 100,000 synthetic 384-d movies (HNSW).
On each, ``--people`` anonymous histories of 20 picks (each within one of 200 taste
clusters, so that co-picks mean something) are seeded as community counts, then
``--users`` users make 20 picks each through the Recommender, and every user asks for
recommendations ``--rounds`` times, one call at a time. Profiles and counts live in the
local Redis (127.0.0.1:6379) under a key prefix of the benchmark's own, deleted at the
end. The report (markdown) goes to stdout::

    moviebot build-index --source ../shared/data/movies.parquet --out /tmp/full
    python benchmarks/bench_recommend.py --index /tmp/full
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from core.community import CoPickSettings
from core.index import IndexParams, MovieIndex
from core.models import Movie, UserRef
from core.stores.redis import RedisProfileStore
from testing.benchmarking import p50, p99, recommender_on, table
from testing.local_redis import LOCAL_REDIS, delete_prefix

PICKS_PER_PERSON = 20
CLUSTERS = 200


def synthetic_index(count: int, dim: int = 384) -> MovieIndex:
    """``count`` movies around ``CLUSTERS`` centres, in an HNSW index."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((CLUSTERS, dim))
    vectors = centres[rng.integers(0, CLUSTERS, count)] + 0.8 * rng.standard_normal((count, dim))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    movies = [Movie(movie_id=i, title=f"Movie {i}") for i in range(count)]
    return MovieIndex.from_vectors(movies, vectors, "bench:clusters", IndexParams(ef_search=64))


def histories(index: MovieIndex, people: int, rng: np.random.Generator) -> list[list[int]]:
    """Pick histories, each of one person drawn near one movie (their taste)."""
    vectors = index.all_vectors()
    found = []
    for _ in range(people):
        seed = vectors[rng.integers(len(vectors))]
        near = index.search(seed, 4 * PICKS_PER_PERSON)
        chosen = rng.choice(len(near), PICKS_PER_PERSON, replace=False)
        found.append([near[i].movie.movie_id for i in chosen])
    return found


async def measure(index: MovieIndex, people: int, users: int, rounds: int) -> list[object]:
    prefix = f"bench-recommend-{uuid.uuid4().hex[:8]}"
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix, community=CoPickSettings())
    try:
        rng = np.random.default_rng(2)
        print(f"{len(index)} movies: seeding {people} histories ...", file=sys.stderr)
        await store.seed_community("bench", histories(index, people, rng))
        recommender = recommender_on(store, index)
        asking = [UserRef("bench", str(n)) for n in range(users)]
        for user, picks in zip(asking, histories(index, users, rng), strict=True):
            for movie_id in picks:
                await recommender.pick(user, movie_id)
        await recommender.recommend(asking[0])
        latencies = []
        for _ in range(rounds):
            for user in asking:
                started = time.perf_counter()
                await recommender.recommend(user)
                latencies.append((time.perf_counter() - started) * 1000)
        return [f"{len(index):,}", f"{people:,}", len(latencies), f"{p50(latencies):.1f}",
                f"{p99(latencies):.1f}"]  # fmt: skip
    finally:
        await store.close()
        await delete_prefix(prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = [
        asyncio.run(measure(MovieIndex.load(args.index), args.people, args.users, args.rounds)),
        asyncio.run(measure(synthetic_index(100_000), args.people, args.users, args.rounds)),
    ]
    print("## /recommend in process, co-pick counts in the local Redis\n")
    print("\n".join(table("movies | seeded people | calls | p50 ms | p99 ms", rows)))


if __name__ == "__main__":
    main()
