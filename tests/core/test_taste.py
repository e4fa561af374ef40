"""Properties of the taste maths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.taste import (
    away_step,
    bucket_noise,
    decayed_weight,
    ema_step,
    gaussian_noise,
    replay_picks,
    rotate_by_angle,
    unit,
)

DIM = 32
finite = st.floats(-10, 10, allow_nan=False, width=32)
raw_vectors = arrays(np.float32, DIM, elements=finite).filter(
    lambda v: float(np.linalg.norm(v)) > 1e-2
)
unit_vectors = raw_vectors.map(unit)
strengths = st.floats(0, 1)
seeds = st.integers(0, 2**32 - 1)
LOWER, UPPER = np.full(DIM, -0.4, np.float32), np.full(DIM, 0.4, np.float32)
STRATEGIES = {
    "gaussian": gaussian_noise,
    "bucket": bucket_noise(LOWER, UPPER),
    "angle": rotate_by_angle,
}


def is_unit(vector: np.ndarray) -> bool:
    return (
        vector.dtype == np.float32
        and bool(np.all(np.isfinite(vector)))
        and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    )


@given(unit_vectors, unit_vectors, st.floats(0, 1))
def test_ema_step_stays_a_finite_unit_vector(
    taste: np.ndarray, movie: np.ndarray, a: float
) -> None:
    assume(float(taste @ movie) > -0.99 or a in (0.0, 1.0))
    assert is_unit(ema_step(taste, movie, a))


@given(unit_vectors, unit_vectors, st.floats(0.01, 0.99))
def test_ema_step_moves_towards_the_movie(taste: np.ndarray, movie: np.ndarray, a: float) -> None:
    assume(float(taste @ movie) > -0.99)
    assert float(ema_step(taste, movie, a) @ movie) >= float(taste @ movie) - 1e-5


@given(unit_vectors)
def test_first_pick_is_the_movie(movie: np.ndarray) -> None:
    assert np.allclose(ema_step(None, movie, 0.3), movie, atol=1e-6)


@given(unit_vectors, unit_vectors, st.floats(0.01, 0.9))
def test_away_step_moves_away_and_stays_unit(
    taste: np.ndarray, movie: np.ndarray, a: float
) -> None:
    moved = away_step(taste, movie, a)
    assert is_unit(moved)
    assert float(moved @ movie) <= float(taste @ movie) + 1e-5


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@given(taste=unit_vectors, seed=seeds, strength=strengths)
def test_exploration_gives_finite_unit_vectors(
    name: str, taste: np.ndarray, seed: int, strength: float
) -> None:
    assert is_unit(STRATEGIES[name](taste, np.random.default_rng(seed), strength))


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@given(taste=unit_vectors, seed=seeds)
def test_strength_zero_is_the_identity(name: str, taste: np.ndarray, seed: int) -> None:
    assert np.allclose(STRATEGIES[name](taste, np.random.default_rng(seed), 0.0), taste, atol=1e-6)


@given(taste=unit_vectors, seed=seeds, strength=strengths)
def test_angle_strategy_lands_on_its_angle(taste: np.ndarray, seed: int, strength: float) -> None:
    explored = rotate_by_angle(taste, np.random.default_rng(seed), strength)
    angle = math.acos(float(np.clip(explored.astype(np.float64) @ taste, -1, 1)))
    assert abs(angle - strength * math.pi / 2) < 1e-3


@given(seed=seeds, strength=st.floats(0.05, 0.4))
def test_bucket_noise_replaces_distinct_dimensions_within_bounds(
    seed: int, strength: float
) -> None:
    taste = unit(np.linspace(1.0, 2.0, DIM))  # positive, no repeated value
    # Bounds below every value of the taste: a replaced dimension never looks rescaled.
    lower, upper = np.full(DIM, -0.4, np.float32), np.full(DIM, -0.2, np.float32)
    explored = bucket_noise(lower, upper)(taste, np.random.default_rng(seed), strength)
    scale = float(np.median(explored / taste))  # most dimensions are only rescaled
    replaced = np.abs(explored - scale * taste) > 1e-5
    assert int(replaced.sum()) == round(strength * DIM)
    originals = explored[replaced] / scale
    assert np.all(originals >= lower[replaced] - 1e-5) and np.all(
        originals <= upper[replaced] + 1e-5
    )


@settings(max_examples=50)
@given(st.lists(unit_vectors, min_size=1, max_size=8), st.floats(0.05, 0.95))
def test_replay_equals_stepwise_ema(movies: list[np.ndarray], a: float) -> None:
    taste = None
    for movie in movies:
        if taste is not None and float(taste @ movie) < -0.99:
            return
        taste = ema_step(taste, movie, a)
    assert np.allclose(replay_picks(movies, a), taste, atol=1e-6)


def test_gaussian_noise_is_zero_mean_and_scaled() -> None:
    rng = np.random.default_rng(0)
    taste = unit(np.ones(384))
    cosines = [float(gaussian_noise(taste, rng, 0.3) @ taste) for _ in range(200)]
    # Noise of length 0.3 at a right angle leaves a cosine of 1/sqrt(1.09), about 0.958.
    assert 0.94 < float(np.mean(cosines)) < 0.97


@pytest.mark.parametrize(
    ("elapsed_days", "expected"),
    [(None, 0.5), (0, 0.5), (30, 0.75), (60, 0.875), (3000, 1.0)],
)
def test_decay_makes_a_pick_after_a_long_gap_count_more(
    elapsed_days: float | None, expected: float
) -> None:
    elapsed = None if elapsed_days is None else elapsed_days * 86_400
    assert decayed_weight(0.5, elapsed, half_life_days=30) == pytest.approx(expected, abs=1e-6)


def test_zero_vector_cannot_be_normalized() -> None:
    with pytest.raises(ValueError):
        unit(np.zeros(4))
    with pytest.raises(ValueError):
        unit(np.array([np.nan, 1.0]))
