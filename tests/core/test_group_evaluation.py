"""The group evaluation: how groups are drawn, how lists are scored, and the shipped
strategy's promise on real users."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from core.catalog import load_catalog
from core.embedders import OnnxEmbedder
from core.embedding_cache import EmbeddingCache, embed_documents_cached
from core.group import GroupStrategy, GroupWeights
from core.group_evaluation import (
    GROUP_SIZES,
    MIN_PICKS,
    evaluate_groups,
    group_strategies,
    sample_groups,
)
from core.index import MovieIndex
from core.models import Movie
from core.ratings import Pick, load_picks
from core.text import document_text
from testing.data import shared_file


def arc_catalog(count: int = 40) -> tuple[list[Movie], np.ndarray]:
    """Movies on a quarter circle: each one's nearest unpicked neighbour is the next."""
    angles = np.linspace(0, math.pi / 2, count)
    vectors = np.zeros((count, 8), np.float32)
    vectors[:, 0], vectors[:, 1] = np.cos(angles), np.sin(angles)
    return [Movie(100 + i, f"M{i}") for i in range(count)], vectors


def staggered_picks(users: int = 12, steps: int = 16) -> list[Pick]:
    """Users who like movies at times of their own, overlapping in time."""
    picks = [
        Pick(float(50 * user + 30 * step), user, 100 + (user + step) % 40)
        for user in range(users)
        for step in range(steps)
    ]
    return sorted(picks, key=lambda pick: (pick.timestamp, pick.user))


def test_groups_are_of_users_who_liked_enough_before_the_moment_and_more_after() -> None:
    picks = staggered_picks()
    times: defaultdict[int, list[float]] = defaultdict(list)
    for pick in picks:
        times[pick.user].append(pick.timestamp)

    cases = sample_groups(picks, 50, np.random.default_rng(4))

    assert len(cases) == 50
    for case in cases:
        assert GROUP_SIZES[0] <= len(case.members) <= GROUP_SIZES[1]
        assert len(set(case.members)) == len(case.members)
        for user in case.members:
            before = [at for at in times[user] if at <= case.moment]
            assert len(before) >= MIN_PICKS and len(before) < len(times[user])
    assert cases == sample_groups(picks, 50, np.random.default_rng(4))


def test_no_groups_without_enough_users_at_any_moment() -> None:
    lonely = [Pick(float(step), 1, 100 + step) for step in range(10)]
    assert sample_groups(lonely, 10, np.random.default_rng(0)) == []
    assert sample_groups([], 10, np.random.default_rng(0)) == []


def test_members_walking_the_same_path_all_find_their_next_movie() -> None:
    """Five users like the movies of an arc in order, at the same times: whatever the
    strategy, the group's list starts with the next movie, everyone's next like."""
    movies, vectors = arc_catalog()
    picks = [
        Pick(float(step), user, movies[step].movie_id) for step in range(12) for user in range(5)
    ]
    strategies = [
        (strategy.value, GroupWeights(strategy, popularity=0.0)) for strategy in GroupStrategy
    ]

    report = evaluate_groups(movies, vectors, picks, strategies, groups=20)

    assert report.groups == 20 and report.members >= 60
    for scores in report.strategies:
        assert scores.hit_rate == 1.0
        assert 0.5 < scores.worst == scores.best < 1.0


def test_least_misery_lifts_the_member_the_mean_leaves_behind() -> None:
    """Three users at one end of the arc, one at the other: the mean serves the three,
    least misery meets in the middle."""
    movies, vectors = arc_catalog()
    picks = sorted(
        [Pick(float(step), user, movies[step].movie_id) for step in range(8) for user in (0, 1, 2)]
        + [Pick(float(step), 3, movies[39 - step].movie_id) for step in range(8)],
        key=lambda pick: (pick.timestamp, pick.user),
    )
    strategies = [
        (strategy.value, GroupWeights(strategy, popularity=0.0)) for strategy in GroupStrategy
    ]

    mean, least_misery, fair = evaluate_groups(movies, vectors, picks, strategies).strategies

    assert mean.worst < least_misery.worst and mean.worst < fair.worst
    assert mean.best > least_misery.best


def test_eval_groups_prints_a_table_and_json(tmp_path: Path) -> None:
    movies, vectors = arc_catalog()
    MovieIndex.from_vectors(movies, vectors, "test:arc").save(tmp_path / "index")
    picks = staggered_picks()
    pd.DataFrame(
        {
            "userId": [pick.user for pick in picks],
            "movieId": [pick.movie_id for pick in picks],
            "rating": 4.5,
            "timestamp": [int(pick.timestamp) for pick in picks],
        }
    ).to_csv(tmp_path / "ratings.csv", index=False)
    pd.DataFrame(
        {
            "movieId": [m.movie_id for m in movies],
            "imdbId": 0,
            "tmdbId": [m.movie_id for m in movies],
        }
    ).to_csv(tmp_path / "links.csv", index=False)

    result = CliRunner().invoke(
        app,
        [
            "eval", "--groups",
            "--catalog", "unused",
            "--ratings", str(tmp_path / "ratings.csv"),
            "--links", str(tmp_path / "links.csv"),
            "--index", str(tmp_path / "index"),
            "--json",
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["groups"] > 0
    assert set(summary["strategies"]) == {name for name, _ in group_strategies()}
    assert set(summary["strategies"]["fair"]) == {"hit_rate", "worst", "best"}
    assert "worst member" in result.output


@pytest.mark.slow
def test_fair_lifts_the_worst_member_and_keeps_the_hits_on_real_users(
    local_embedder: OnnxEmbedder,
) -> None:
    """The promise of the shipped strategy on the real catalog and users, as
    ``moviebot eval --groups`` measures it (the table is in docs/evaluation.md)."""
    catalog = load_catalog(str(shared_file("movies.parquet")))
    movielens = shared_file("movielens-dev")
    cache = EmbeddingCache(Settings().embedding.cache_dir / "embeddings.sqlite")
    texts = [document_text(movie) for movie in catalog.movies]
    vectors = embed_documents_cached(local_embedder, texts, cache)
    picks = load_picks(
        movielens / "ratings.csv",
        movielens / "links.csv",
        [movie.movie_id for movie in catalog.movies],
    )
    strategies = dict(group_strategies())
    chosen = [(name, strategies[name]) for name in ("mean", "fair")]

    mean, fair = evaluate_groups(catalog.movies, vectors, picks, chosen).strategies

    assert fair.worst > mean.worst
    assert fair.hit_rate >= 0.9 * mean.hit_rate
