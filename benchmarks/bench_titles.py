"""Benchmark title completion, what Discord's autocomplete asks for as a user types: it
must answer within 3 seconds, and does so from memory, without the model or the store.

What users type is every prefix of real titles (1 to 12 characters), plus words from
the middle of titles; each completion is timed alone, on one thread. Two catalogs: the
real one (or the bundled sample), and a synthetic one of made-up titles. Run from the
repository root; the report (markdown) goes to stdout::

    python benchmarks/bench_titles.py [--catalog PATH] [--synthetic-n N]
"""

from __future__ import annotations

import argparse
import random
import time

from core.catalog import load_catalog
from core.models import Movie
from core.titles import TitleIndex
from testing.benchmarking import DEFAULT_CATALOG, p50, p99, table

LIMIT = 25  # Discord's most choices
TYPED_PER_CATALOG = 2_000
SEED = 7


def typed_texts(movies: list[Movie], count: int, rng: random.Random) -> list[str]:
    """What people type: a title's first characters, or a word from inside one."""
    texts = []
    for movie in rng.choices(movies, k=count):
        words = movie.title.split()
        if rng.random() < 0.8 or len(words) < 2:
            texts.append(movie.title[: rng.randint(1, 12)])
        else:
            texts.append(rng.choice(words[1:])[: rng.randint(1, 8)])
    return texts


def synthetic_movies(count: int, rng: random.Random) -> list[Movie]:
    words = [f"{rng.choice('bcdfghklmnprstvz')}{rng.choice('aeiou')}{n}" for n in range(5_000)]
    return [
        Movie(n, " ".join(rng.choices(words, k=rng.randint(1, 5))), popularity=rng.random())
        for n in range(count)
    ]


def measure(name: str, movies: list[Movie], rng: random.Random) -> list[object]:
    started = time.perf_counter()
    titles = TitleIndex(movies)
    built = time.perf_counter() - started
    seconds, counts = [], []
    for typed in typed_texts(movies, TYPED_PER_CATALOG, rng):
        started = time.perf_counter()
        counts.append(len(titles.complete(typed, LIMIT)))
        seconds.append(time.perf_counter() - started)
    milliseconds = [1000 * value for value in seconds]
    return [
        name,
        f"{len(movies):,}",
        f"{built:.2f}",
        f"{p50(milliseconds):.3f}",
        f"{p99(milliseconds):.3f}",
        f"{max(milliseconds):.3f}",
        f"{sum(counts) / len(counts):.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=DEFAULT_CATALOG)
    parser.add_argument("--synthetic-n", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(SEED)
    rows = [
        measure(args.catalog, list(load_catalog(args.catalog).movies), rng),
        measure("synthetic", synthetic_movies(args.synthetic_n, rng), rng),
    ]
    columns = "catalog | titles | index built s | p50 ms | p99 ms | max ms | choices"
    print("\n".join(table(columns, rows, left=1)))


if __name__ == "__main__":
    main()
