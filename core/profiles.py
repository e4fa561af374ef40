"""How a user's TasteProfile changes: a pick, a "less like this", an undo, and the
rebuild for another index (shared by the Recommender, on read, and the reindexing of
stores). Pure functions: a profile in, a new profile out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from core.errors import AlreadyPickedError, NoTasteYetError
from core.index import MovieIndex
from core.models import Movie, TasteProfile, UndoAction, UndoStep, Vectors
from core.taste import TasteSettings, away_step, decayed_weight, ema_step, replay_picks


def with_pick(
    profile: TasteProfile, movie: Movie, vector: Vectors, now: float, taste: TasteSettings
) -> TasteProfile | None:
    """``profile`` after picking ``movie`` (of ``vector``) at ``now``; ``None`` when it is
    a pick already."""
    if movie.movie_id in profile.picked:
        return None
    elapsed = now - profile.last_pick_at if profile.last_pick_at else None
    weight = decayed_weight(taste.ema_weight, elapsed, taste.half_life_days)
    was_disliked = movie.movie_id in profile.disliked
    step = UndoStep(
        UndoAction.PICK, movie.movie_id, profile.vector, profile.last_pick_at, was_disliked
    )
    return replace(
        profile,
        vector=ema_step(profile.vector, vector, weight),
        picked=(*profile.picked, movie.movie_id),
        disliked=tuple(other for other in profile.disliked if other != movie.movie_id),
        last_pick_at=now,
        undo=(*profile.undo, step)[-taste.undo_depth :],
    )


def with_dislike(
    profile: TasteProfile, movie: Movie, vector: Vectors, taste: TasteSettings
) -> TasteProfile | None:
    """``profile`` after "less like this" of ``movie`` (of ``vector``); ``None`` when it
    is disliked already.

    Raises:
        NoTasteYetError: the profile has no taste to steer away from.
        AlreadyPickedError: ``movie`` is a pick.
    """
    if profile.vector is None:
        raise NoTasteYetError()
    if movie.movie_id in profile.picked:
        raise AlreadyPickedError(movie)
    if movie.movie_id in profile.disliked:
        return None
    step = UndoStep(UndoAction.DISLIKE, movie.movie_id, profile.vector, profile.last_pick_at)
    return replace(
        profile,
        vector=away_step(profile.vector, vector, taste.dislike_weight),
        disliked=(*profile.disliked, movie.movie_id),
        undo=(*profile.undo, step)[-taste.undo_depth :],
    )


def reverted(profile: TasteProfile, step: UndoStep) -> TasteProfile:
    """``profile`` as it was before its last undo ``step``."""
    if step.action is UndoAction.PICK:
        picked = _without_last(profile.picked, step.movie_id)
        disliked = (*profile.disliked, step.movie_id) if step.was_disliked else profile.disliked
    else:
        picked, disliked = profile.picked, _without_last(profile.disliked, step.movie_id)
    return replace(
        profile,
        vector=step.previous_vector,
        picked=picked,
        disliked=disliked,
        last_pick_at=step.previous_last_pick_at,
        undo=profile.undo[:-1],
    )


def profile_exclusions(profile: TasteProfile) -> set[int]:
    """Movies never to recommend to this user again: picked and disliked."""
    return {*profile.picked, *profile.disliked}


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


def _without_last(ids: tuple[int, ...], movie_id: int) -> tuple[int, ...]:
    position = len(ids) - 1 - ids[::-1].index(movie_id)
    return ids[:position] + ids[position + 1 :]
