"""The group maths: what each strategy lists, and the properties every list keeps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.group import (
    FITS_FROM,
    GroupPick,
    GroupStrategy,
    GroupWeights,
    group_picks,
    percentiles,
    rank_for_group,
)
from core.index import MovieIndex
from core.models import Movie
from testing.data import random_movies

MOVIES, VECTORS = random_movies(120, dim=12, seed=3)
INDEX = MovieIndex.from_vectors(MOVIES, VECTORS, "test:random")
IDS = [movie.movie_id for movie in MOVIES]
NO_POPULARITY = np.zeros(len(MOVIES))
TASTE_ONLY = {strategy: GroupWeights(strategy, popularity=0.0) for strategy in GroupStrategy}


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


tastes = st.lists(
    st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=12, max_size=12).filter(
        lambda values: np.linalg.norm(values) > 1e-3
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    members=tastes,
    excluded=st.sets(st.sampled_from(IDS), max_size=110),
    strategy=st.sampled_from(list(GroupStrategy)),
    popularity=st.floats(0, 3),
    k=st.integers(1, 12),
    order=st.randoms(use_true_random=False),
)
def test_no_excluded_movie_is_listed_and_member_order_does_not_matter(
    members: list[list[float]],
    excluded: set[int],
    strategy: GroupStrategy,
    popularity: float,
    k: int,
    order: object,
) -> None:
    vectors = [unit(np.array(member)) for member in members]
    prior = np.linspace(-1.0, 1.0, len(MOVIES))
    weights = GroupWeights(strategy, popularity=popularity, candidates=40)
    listed = group_picks(INDEX, vectors, excluded, prior, k, weights)

    assert not {pick.movie.movie_id for pick in listed} & excluded
    assert len(listed) == min(k, len(MOVIES) - len(excluded))
    assert all(len(pick.fits) == len(members) for pick in listed)

    shuffled = list(range(len(members)))
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    again = group_picks(INDEX, [vectors[n] for n in shuffled], excluded, prior, k, weights)
    assert [pick.movie for pick in again] == [pick.movie for pick in listed]
    assert [pick.score for pick in again] == [pick.score for pick in listed]
    assert [pick.fits for pick in again] == [
        tuple(pick.fits[n] for n in shuffled) for pick in listed
    ]


def test_percentiles_rank_each_member_on_their_own_scale() -> None:
    similarity = np.array([[0.1, 0.9, 0.5], [0.30, 0.31, 0.32]])
    assert percentiles(similarity).tolist() == [[0.0, 1.0, 0.5], [0.0, 0.5, 1.0]]


def three_friends() -> np.ndarray:
    """Two members who agree, one who does not; movie 0 suits the pair, movie 1 all three
    a little, movie 2 the third member only."""
    return np.array(
        [
            [0.90, 0.50, 0.00, 0.10, 0.20],
            [0.90, 0.50, 0.00, 0.20, 0.10],
            [0.00, 0.45, 0.80, 0.10, 0.10],
        ]
    )


def top(similarity: np.ndarray, strategy: GroupStrategy) -> int:
    nothing = np.zeros(similarity.shape[1], dtype=bool)
    ranking = rank_for_group(similarity, nothing, np.zeros(len(nothing)), 1, TASTE_ONLY[strategy])
    return int(ranking.positions[0])


def test_the_mean_follows_the_majority_and_least_misery_the_compromise() -> None:
    assert top(three_friends(), GroupStrategy.MEAN) == 0
    assert top(three_friends(), GroupStrategy.LEAST_MISERY) == 1


def test_fair_weighs_each_member_on_their_own_scale() -> None:
    """The third member's similarities are all low (a taste far from the catalog), yet
    movie 2 is their favourite and the pair's third choice: in the mean the third
    member barely counts, fair lifts them."""
    similarity = np.array(
        [
            [0.90, 0.85, 0.70, 0.10, 0.00],
            [0.85, 0.90, 0.70, 0.10, 0.00],
            [0.01, 0.02, 0.06, 0.04, 0.03],
        ]
    )
    assert top(similarity, GroupStrategy.MEAN) == 1
    assert top(similarity, GroupStrategy.FAIR) == 2


def test_popularity_reranks_the_best_candidates_only() -> None:
    similarity = np.array([[0.9, 0.8, 0.1, 0.0]])
    nothing = np.zeros(4, dtype=bool)
    popular_far_away = np.array([0.0, 2.5, 0.0, 5.0])
    weights = GroupWeights(GroupStrategy.MEAN, popularity=1.0, candidates=2)
    ranking = rank_for_group(similarity, nothing, popular_far_away, 2, weights)
    assert ranking.positions.tolist() == [1, 0]


def test_excluded_movies_never_come_back_even_when_best() -> None:
    excluded = np.array([True, False, False, False, False])
    ranking = rank_for_group(
        three_friends(), excluded, np.zeros(5), 5, TASTE_ONLY[GroupStrategy.MEAN]
    )
    assert 0 not in ranking.positions.tolist() and len(ranking.positions) == 4


def test_a_movie_near_every_taste_fits_everyone() -> None:
    shared = VECTORS[7]
    near = [unit(shared + 0.05 * np.eye(12, dtype=np.float32)[n]) for n in range(3)]
    listed = group_picks(INDEX, near, set(), NO_POPULARITY, 1, TASTE_ONLY[GroupStrategy.FAIR])
    assert listed[0].movie == MOVIES[7]
    assert listed[0].fitted == (0, 1, 2) and min(listed[0].fits) == pytest.approx(1.0)


def test_fitted_and_closest_name_members_by_place() -> None:
    pick = GroupPick(Movie(1, "M"), 0.0, (0.95, 0.2, FITS_FROM))
    assert pick.fitted == (0, 2) and pick.closest == 0
    assert GroupPick(Movie(1, "M"), 0.0, ()).closest is None
