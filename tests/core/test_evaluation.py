"""The offline replay: picks from ratings, metrics, and no leakage from the future."""

from __future__ import annotations

import json
import math
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
from core.evaluation import ReplayStrategy, evaluate, standard_strategies
from core.index import MovieIndex
from core.models import Movie
from core.ranking import RankingWeights
from core.ratings import Pick, liked_picks, load_picks
from core.taste import TasteSettings
from core.text import document_text
from testing.data import shared_file


def arc_catalog(count: int = 60) -> tuple[list[Movie], np.ndarray]:
    """Movies on a quarter circle: each one's nearest unpicked neighbour is the next."""
    angles = np.linspace(0, math.pi / 2, count)
    vectors = np.zeros((count, 8), np.float32)
    vectors[:, 0], vectors[:, 1] = np.cos(angles), np.sin(angles)
    return [Movie(100 + i, f"M{i}") for i in range(count)], vectors


def test_liked_picks_keeps_liked_catalog_movies_of_active_users_in_time_order() -> None:
    ratings = pd.DataFrame(
        {
            "userId": [1, 1, 1, 1, 1, 2, 2, 2],
            "movieId": [10, 11, 12, 13, 99, 10, 11, 13],
            "rating": [4.0, 5.0, 4.5, 3.5, 5.0, 4.0, 4.0, 1.0],
            "timestamp": [40, 10, 30, 20, 50, 5, 6, 7],
        }
    )
    links = pd.DataFrame({"movieId": [10, 11, 12, 13, 99], "tmdbId": [1, 2, 3, 4, 999]})
    picks = liked_picks(ratings, links, catalog_ids=[1, 2, 3, 4])
    # user 2 has only two liked movies; 3.5 is not a like; 999 is not in the catalog
    assert picks == [Pick(10, 1, 2), Pick(30, 1, 3), Pick(40, 1, 1)]


def test_following_the_taste_along_a_chain_always_hits() -> None:
    movies, vectors = arc_catalog()
    picks = [Pick(float(t), 7, movies[t].movie_id) for t in range(20)]
    report = evaluate(
        movies,
        vectors,
        picks,
        [ReplayStrategy("last", weight=1.0), ReplayStrategy("random", kind="random")],
    )
    follow, random = report.strategies
    assert (report.users, report.events) == (1, 19)
    assert follow.hr10 == 1.0 and follow.ndcg10 == 1.0
    assert random.hr10 < 0.6
    assert 0 < follow.diversity < random.diversity
    assert follow.coverage < random.coverage <= 1.0


@pytest.mark.parametrize(("other_at", "expected_hit"), [(3.0, 1.0), (10.0, 0.0)])
def test_bot_pick_counts_only_see_the_past(other_at: float, expected_hit: float) -> None:
    movies, vectors = arc_catalog()
    far = movies[-1].movie_id  # least similar to the first pick
    picks = sorted(
        [
            Pick(1.0, 1, movies[0].movie_id),
            Pick(5.0, 1, far),
            Pick(other_at, 2, far),
            Pick(other_at + 0.5, 2, movies[30].movie_id),
            Pick(other_at + 0.6, 2, movies[31].movie_id),
        ],
        key=lambda pick: pick.timestamp,
    )
    counts_rule = ReplayStrategy(
        "counts", weight=0.5, ranking=RankingWeights(popularity=0, bot_picks=100, candidates=60)
    )
    report = evaluate(movies, vectors, picks, [counts_rule])
    # user 1 predicts once (at t=5); user 2 twice; only user 1's prediction can hit `far`
    user_one_hit = report.strategies[0].hr10 * report.events
    assert user_one_hit == pytest.approx(expected_hit)


@pytest.mark.parametrize("other_at", [3.0, 10.0])
def test_co_pick_counts_only_see_the_past(other_at: float) -> None:
    movies, vectors = arc_catalog()
    first, far = movies[0].movie_id, movies[-1].movie_id  # far: least similar to first
    picks = sorted(
        [
            Pick(1.0, 1, first),
            Pick(5.0, 1, far),
            Pick(other_at, 2, first),
            Pick(other_at + 0.5, 2, far),
        ],
        key=lambda pick: pick.timestamp,
    )
    community_rule = ReplayStrategy(
        "community",
        weight=0.5,
        ranking=RankingWeights(popularity=0, bot_picks=0, community=100, candidates=10),
    )
    report = evaluate(movies, vectors, picks, [community_rule])
    # Each user predicts `far` once, after `first`, and can only find it through the
    # other's pair (first, far): the one who predicts second hits, the first cannot. If
    # counts leaked from the future, both would hit.
    hits = report.strategies[0].hr10 * report.events
    assert (report.events, hits) == (2, pytest.approx(1.0))


def test_prototype_starts_at_the_catalog_mean() -> None:
    movies, vectors = arc_catalog()
    picks = [Pick(float(t), 1, movies[t].movie_id) for t in (0, 1, 2)]
    prototype, ema = evaluate(
        movies,
        vectors,
        picks,
        [ReplayStrategy("prototype", prototype=True), ReplayStrategy("ema", weight=1.0)],
    ).strategies
    # the mean of the arc pulls the prototype's taste to the middle, away from the next pick
    assert ema.hr10 == 1.0 and prototype.ndcg10 < ema.ndcg10


def test_eval_command_prints_a_table_and_json(tmp_path: Path) -> None:
    movies, vectors = arc_catalog()
    MovieIndex.from_vectors(movies, vectors, "test:arc").save(tmp_path / "index")
    users = [(user, step) for user in (1, 2, 3) for step in range(6)]
    pd.DataFrame(
        {
            "userId": [user for user, _ in users],
            "movieId": [step + 10 * user for user, step in users],
            "rating": 4.5,
            "timestamp": [1000 * user + step for user, step in users],
        }
    ).to_csv(tmp_path / "ratings.csv", index=False)
    pd.DataFrame(
        {
            "movieId": [step + 10 * user for user, step in users],
            "imdbId": 0,
            "tmdbId": [movies[step + 10 * user].movie_id for user, step in users],
        }
    ).to_csv(tmp_path / "links.csv", index=False)
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--catalog", "unused",
            "--ratings", str(tmp_path / "ratings.csv"),
            "--links", str(tmp_path / "links.csv"),
            "--index", str(tmp_path / "index"),
            "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["users"], summary["events"]) == (3, 15)
    assert {"prototype", "ema", "default", "popularity", "random"} <= set(summary["strategies"])
    assert {"default-no-community", "no-catalog-popularity"} <= set(summary["strategies"])
    assert "explore-angle-0.3" in summary["strategies"]
    assert set(summary["strategies"]["default"]) == {"hr10", "ndcg10", "coverage", "diversity"}
    assert "HR@10" in result.output


def test_eval_command_reports_missing_files(tmp_path: Path) -> None:
    movies, vectors = arc_catalog()
    MovieIndex.from_vectors(movies, vectors, "test:arc").save(tmp_path / "index")
    result = CliRunner().invoke(
        app,
        ["eval", "--catalog", "x", "--ratings", "nope.csv", "--links", "nope.csv",
         "--index", str(tmp_path / "index")],
    )  # fmt: skip
    assert result.exit_code == 1 and "file not found" in result.output


@pytest.mark.slow
def test_default_beats_the_prototype_on_real_users(local_embedder: OnnxEmbedder) -> None:
    """A slice of the real replay (the full table is in docs/evaluation.md)."""
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
    quarter = set(sorted({pick.user for pick in picks})[::4])
    sample = [pick for pick in picks if pick.user in quarter]
    taste = TasteSettings()
    strategies = standard_strategies(taste.ema_weight, taste.half_life_days, RankingWeights())
    chosen = [s for s in strategies if s.name in {"prototype", "default", "random"}]
    scores = {s.name: s for s in evaluate(catalog.movies, vectors, sample, chosen).strategies}
    assert scores["default"].hr10 > 3 * scores["prototype"].hr10 > 3 * scores["random"].hr10
