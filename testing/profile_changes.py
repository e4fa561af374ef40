"""Pure change functions shaped like the Recommender's, and profile comparison."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.models import TasteProfile, UndoAction, UndoStep, Vectors
from core.ports import ProfileChange
from core.taste import ema_step

FINGERPRINT = "test-index"
EMA_WEIGHT = 0.5
UNDO_DEPTH = 5


def pick(movie_id: int, movie: Vectors, now: float = 1_700_000_000.0) -> ProfileChange:
    """Move the taste towards ``movie`` with an EMA step; picking a movie twice is a no-op."""

    def change(stored: TasteProfile | None) -> TasteProfile | None:
        profile = stored or TasteProfile(FINGERPRINT)
        if movie_id in profile.picked:
            return None
        step = UndoStep(UndoAction.PICK, movie_id, profile.vector, profile.last_pick_at)
        return replace(
            profile,
            vector=ema_step(profile.vector, movie, EMA_WEIGHT),
            picked=(*profile.picked, movie_id),
            last_pick_at=now,
            undo=(*profile.undo, step)[-UNDO_DEPTH:],
        )

    return change


def undo_last(stored: TasteProfile | None) -> TasteProfile | None:
    """Revert the last pick exactly, from its undo step."""
    if stored is None or not stored.undo:
        raise LookupError("nothing to undo")
    step = stored.undo[-1]
    return replace(
        stored,
        vector=step.previous_vector,
        picked=tuple(movie_id for movie_id in stored.picked if movie_id != step.movie_id),
        last_pick_at=step.previous_last_pick_at,
        undo=stored.undo[:-1],
    )


def unit_vectors(count: int, dim: int = 16, seed: int = 0) -> Vectors:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dim)).astype(np.float32)
    normalized: Vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normalized


def assert_same_profile(actual: TasteProfile | None, expected: TasteProfile) -> None:
    """Every field equal; vectors bit for bit, since float32 survives storage exactly."""
    assert actual is not None
    assert (actual.fingerprint, actual.picked, actual.disliked, actual.last_pick_at) == (
        expected.fingerprint,
        expected.picked,
        expected.disliked,
        expected.last_pick_at,
    )
    assert_same_vector(actual.vector, expected.vector)
    assert [_undo_fields(step) for step in actual.undo] == [
        _undo_fields(step) for step in expected.undo
    ]
    for got, want in zip(actual.undo, expected.undo, strict=True):
        assert_same_vector(got.previous_vector, want.previous_vector)


def assert_same_vector(actual: Vectors | None, expected: Vectors | None) -> None:
    if expected is None:
        assert actual is None
        return
    assert actual is not None and actual.dtype == np.float32
    np.testing.assert_array_equal(actual, expected)


def _undo_fields(step: UndoStep) -> tuple[object, ...]:
    return (step.action, step.movie_id, step.previous_last_pick_at, step.was_disliked)
