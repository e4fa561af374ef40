"""Tune the ranking weights by grid search on half of the MovieLens dev users.

The replay of core/evaluation.py (global time order, nothing leaks) runs every grid
point on the users of even rank (sorted by id); the table lists each point's HR@10,
NDCG@10 and coverage there, best HR@10 first. Shipping a point means setting it as the
default of ``RankingWeights`` and reporting it on all users with ``moviebot eval``. The
catalog's vectors come from an index built with the default model::

    moviebot build-index --source ../shared/data/movies.parquet --out /tmp/full
    python benchmarks/tune_ranking.py --index /tmp/full
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

from core.evaluation import ReplayStrategy, evaluate
from core.index import MovieIndex
from core.ranking import RankingWeights
from core.ratings import load_picks
from core.taste import TasteSettings
from testing.benchmarking import table
from testing.data import SHARED_DATA

GRID = {
    "community": (0.0, 0.5, 1.0, 2.0, 3.0),
    "popularity": (1.0, 2.0),
    "candidates": (1000, 5000),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    index = MovieIndex.load(args.index)
    movielens = SHARED_DATA / "movielens-dev"
    picks = load_picks(
        movielens / "ratings.csv", movielens / "links.csv", [m.movie_id for m in index.movies]
    )
    users = sorted({pick.user for pick in picks})
    tuning = set(users[::2])
    half = [pick for pick in picks if pick.user in tuning]
    taste = TasteSettings()
    strategies = [
        ReplayStrategy(
            _name(point),
            weight=taste.ema_weight,
            half_life_days=taste.half_life_days,
            ranking=RankingWeights(**point),  # type: ignore[arg-type]
        )
        for point in _points()
    ]
    print(
        f"{len(strategies)} grid points on {len(tuning)} of {len(users)} users ...", file=sys.stderr
    )
    with threadpool_limits(1):
        report = evaluate(index.movies, index.all_vectors(), half, strategies)
    rows = sorted(report.strategies, key=lambda s: -s.hr10)
    print(f"## Ranking grid: {len(tuning)} users (even ranks), {report.events} predictions\n")
    print(
        "\n".join(
            table(
                "point | HR@10 | NDCG@10 | coverage",
                [[s.name, f"{s.hr10:.4f}", f"{s.ndcg10:.4f}", f"{s.coverage:.3f}"] for s in rows],
                left=1,
            )
        )
    )


def _points() -> list[dict[str, float]]:
    return [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]


def _name(point: dict[str, float]) -> str:
    return " ".join(f"{name}={value:g}" for name, value in point.items())


if __name__ == "__main__":
    main()
