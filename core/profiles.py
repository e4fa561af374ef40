"""Fitting a stored TasteProfile to the current index: the fit check and the rebuild from
picks, shared by the Recommender (on read) and the reindexing of stores (on migration)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from core.index import MovieIndex
from core.models import TasteProfile
from core.taste import replay_picks


def fits(profile: TasteProfile, dim: int) -> bool:
    """Whether every vector of ``profile`` (taste and undo steps) is absent or a finite
    vector of ``dim`` dimensions."""
    vectors = [profile.vector, *(step.previous_vector for step in profile.undo)]
    return all(
        vector is None or (vector.shape == (dim,) and bool(np.isfinite(vector).all()))
        for vector in vectors
    )


def rebuilt(profile: TasteProfile, index: MovieIndex, ema_weight: float) -> TasteProfile:
    """``profile`` for ``index``, its vector replayed from the picks still in the catalog.

    Picks and dislikes of movies that left the catalog are dropped, and so is the undo
    history, whose vectors belong to the old index.
    """
    picked = in_catalog(profile.picked, index)
    vectors = [index.vector(movie_id) for movie_id in picked]
    vector = replay_picks(vectors, ema_weight) if vectors else None
    disliked = in_catalog(profile.disliked, index)
    return TasteProfile(index.fingerprint, vector, picked, disliked, profile.last_pick_at)


def in_catalog(movie_ids: Iterable[int], index: MovieIndex) -> tuple[int, ...]:
    """The ids of ``movie_ids`` that ``index`` holds, in their order."""
    return tuple(movie_id for movie_id in movie_ids if index.movie(movie_id) is not None)
