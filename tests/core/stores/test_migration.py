"""Reindexing stored profiles after the index was rebuilt, in Redis."""

from __future__ import annotations

import numpy as np

from core.index import MovieIndex
from core.models import TasteProfile, UndoAction, UndoStep, UserRef
from core.stores.migration import ReindexReport, migrated, reindex_profiles
from core.stores.redis import RedisProfileStore
from core.taste import replay_picks
from testing.data import random_movies
from testing.profile_changes import assert_same_profile, assert_same_vector

ALICE = UserRef("telegram", "1")
BOB = UserRef("discord", "2")
MOVIES, VECTORS = random_movies(50, dim=16, seed=3)
OLD = MovieIndex.from_vectors(MOVIES, VECTORS, "local:model-a")
GONE = MOVIES[45].movie_id


def profile_of(
    index: MovieIndex, picked: list[int], disliked: tuple[int, ...] = ()
) -> TasteProfile:
    """A profile built on ``index`` by picking ``picked`` in order, with an undo step each."""
    vector = None
    undo = []
    for movie_id in picked:
        undo.append(UndoStep(UndoAction.PICK, movie_id, vector, None))
        vector = replay_picks([index.vector(movie_id)], 0.5, start=vector)
    return TasteProfile(
        index.fingerprint, vector, tuple(picked), disliked, 1_700_000_000.0, tuple(undo)
    )


def same_embedder_smaller_catalog() -> MovieIndex:
    return MovieIndex.from_vectors(MOVIES[:40], VECTORS[:40], "local:model-a")


def other_embedder() -> MovieIndex:
    _, vectors = random_movies(50, dim=8, seed=4)
    return MovieIndex.from_vectors(MOVIES, vectors, "ollama:model-b")


async def store_profiles(store: RedisProfileStore, *profiles: tuple[UserRef, TasteProfile]) -> None:
    for user, profile in profiles:
        await store.update(user, lambda _, profile=profile: profile)


async def test_same_embedder_keeps_vectors_and_drops_movies_that_left(
    redis_store: RedisProfileStore,
) -> None:
    await reindex_profiles(redis_store, OLD)
    picked = [MOVIES[3].movie_id, GONE, MOVIES[10].movie_id]
    alice = profile_of(OLD, picked, disliked=(MOVIES[46].movie_id, MOVIES[7].movie_id))
    await store_profiles(redis_store, (ALICE, alice), (BOB, profile_of(OLD, [GONE])))
    new = same_embedder_smaller_catalog()

    report = await reindex_profiles(redis_store, new)

    assert report == ReindexReport(unchanged=0, kept_vector=2, rebuilt_vector=0)
    profile = await redis_store.load(ALICE)
    assert profile is not None and profile.fingerprint == new.fingerprint
    assert profile.picked == (MOVIES[3].movie_id, MOVIES[10].movie_id)
    assert profile.disliked == (MOVIES[7].movie_id,)
    assert_same_vector(profile.vector, alice.vector)
    assert [step.movie_id for step in profile.undo] == [MOVIES[10].movie_id]
    assert_same_vector(profile.undo[0].previous_vector, alice.undo[-1].previous_vector)
    assert await redis_store.pick_counts([GONE, MOVIES[3].movie_id]) == (0, 1)


async def test_another_embedder_rebuilds_vectors_from_the_picks(
    redis_store: RedisProfileStore,
) -> None:
    await reindex_profiles(redis_store, OLD)
    picked = [MOVIES[5].movie_id, MOVIES[8].movie_id, MOVIES[1].movie_id]
    await store_profiles(redis_store, (ALICE, profile_of(OLD, picked)))
    new = other_embedder()

    report = await reindex_profiles(redis_store, new)

    assert report == ReindexReport(unchanged=0, kept_vector=0, rebuilt_vector=1)
    profile = await redis_store.load(ALICE)
    assert profile is not None and profile.fingerprint == new.fingerprint
    assert profile.picked == tuple(picked) and profile.undo == ()
    assert profile.last_pick_at == 1_700_000_000.0
    expected = replay_picks([new.vector(movie_id) for movie_id in picked], 0.5)
    assert profile.vector is not None and profile.vector.shape == (8,)
    np.testing.assert_allclose(profile.vector, expected, atol=1e-6)


async def test_an_index_the_store_never_recorded_is_rebuilt(
    redis_store: RedisProfileStore,
) -> None:
    picked = [MOVIES[2].movie_id, MOVIES[4].movie_id]
    await store_profiles(redis_store, (ALICE, profile_of(OLD, picked)))
    new = same_embedder_smaller_catalog()

    report = await reindex_profiles(redis_store, new)

    assert report.rebuilt_vector == 1
    profile = await redis_store.load(ALICE)
    expected = replay_picks([new.vector(movie_id) for movie_id in picked], 0.5)
    assert profile is not None and profile.vector is not None
    np.testing.assert_allclose(profile.vector, expected, atol=1e-6)


async def test_reindexing_twice_changes_nothing_the_second_time(
    redis_store: RedisProfileStore,
) -> None:
    await store_profiles(
        redis_store,
        (ALICE, profile_of(OLD, [MOVIES[1].movie_id])),
        (BOB, profile_of(OLD, [MOVIES[2].movie_id])),
    )
    new = other_embedder()
    await reindex_profiles(redis_store, new)
    before = await redis_store.load(ALICE)

    report = await reindex_profiles(redis_store, new)

    assert report == ReindexReport(unchanged=2, kept_vector=0, rebuilt_vector=0)
    assert before is not None
    assert_same_profile(await redis_store.load(ALICE), before)


def test_a_profile_that_fits_the_index_is_left_alone() -> None:
    profile = profile_of(OLD, [MOVIES[1].movie_id])

    assert migrated(profile, OLD, same_embedder=True, ema_weight=0.5) is None
    assert migrated(None, OLD, same_embedder=True, ema_weight=0.5) is None


def test_a_vector_of_the_wrong_length_is_rebuilt_even_with_the_same_embedder() -> None:
    profile = profile_of(other_embedder(), [MOVIES[1].movie_id])

    moved = migrated(profile, OLD, same_embedder=True, ema_weight=0.5)

    assert moved is not None and moved.vector is not None
    np.testing.assert_allclose(moved.vector, OLD.vector(MOVIES[1].movie_id), atol=1e-6)


def test_a_profile_without_picks_keeps_no_vector() -> None:
    profile = TasteProfile("old-index", None, (), (MOVIES[1].movie_id,))

    moved = migrated(profile, OLD, same_embedder=False, ema_weight=0.5)

    assert moved is not None and moved.vector is None
    assert moved.disliked == (MOVIES[1].movie_id,) and moved.fingerprint == OLD.fingerprint
