"""Recommender flows on the sample index, with the real local model and a memory store."""

from __future__ import annotations

import numpy as np
import pytest

from core.embedders import OnnxEmbedder
from core.errors import (
    AlreadyPickedError,
    IndexFileError,
    InvalidQueryError,
    InvalidRequestError,
    NoTasteYetError,
    NothingToUndoError,
    StrengthOutOfRangeError,
    UnknownMovieError,
    UnknownStrategyError,
)
from core.index import MovieIndex
from core.models import (
    Exploration,
    Movie,
    PickOutcome,
    PickResult,
    Reason,
    ReasonKind,
    TasteProfile,
    UserRef,
)
from core.ranking import RankingWeights
from core.recommender import MAX_RESULTS, Recommender
from core.stores.memory import MemoryProfileStore
from core.taste import TasteSettings, replay_picks
from testing.data import random_movies

ALICE = UserRef("telegram", "1")
BOB = UserRef("discord", "1")
DAY = 86_400.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryProfileStore:
    return MemoryProfileStore()


@pytest.fixture
def recommender(
    sample_index: MovieIndex, local_embedder: OnnxEmbedder, store: MemoryProfileStore, clock: Clock
) -> Recommender:
    return Recommender(
        sample_index, local_embedder, store, rng=np.random.default_rng(0), clock=clock
    )


def movie_id(index: MovieIndex, title: str) -> int:
    return next(movie.movie_id for movie in index.movies if movie.title == title)


async def titles(recommender: Recommender, text: str, k: int = 5) -> list[str]:
    return [hit.movie.title for hit in await recommender.search(text, k)]


async def test_die_hard_finds_the_die_hard_movies_first(recommender: Recommender) -> None:
    assert set((await titles(recommender, "die hard"))[:3]) == {
        "Die Hard",
        "Die Hard 2",
        "Die Hard with a Vengeance",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a lonely robot cleaning up an abandoned Earth", "WALL·E"),
        ("toys that come alive when nobody is watching", "Toy Story"),
        ("a great white shark terrorizes a beach town", "Jaws"),
    ],
)
async def test_plot_descriptions_find_the_movie(
    recommender: Recommender, text: str, expected: str
) -> None:
    assert expected in await titles(recommender, text, k=3)


@pytest.mark.parametrize(
    "text", ["🦈🏖️ shark beach", "فيلم عن سمكة قرش", "x" * 10_000, "<b>jaws</b> *shark* `x`"]
)
async def test_odd_queries_get_sensible_answers(recommender: Recommender, text: str) -> None:
    hits = await recommender.search(text)
    assert len(hits) == 5 and all(-1.0 <= hit.score <= 1.0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


async def test_empty_query_is_refused(recommender: Recommender) -> None:
    with pytest.raises(InvalidQueryError):
        await recommender.search("   \n ")


@pytest.mark.parametrize(("k", "expected"), [(0, 1), (-3, 1), (3, 3), (10_000, MAX_RESULTS)])
async def test_k_is_clamped(recommender: Recommender, k: int, expected: int) -> None:
    assert len(await recommender.search("western", k)) == expected


def test_an_index_of_another_embedder_is_refused(local_embedder: OnnxEmbedder) -> None:
    movies, vectors = random_movies(10, dim=384)
    index = MovieIndex.from_vectors(movies, vectors, "ollama:nomic-embed-text")
    with pytest.raises(IndexFileError, match="ollama:nomic-embed-text"):
        Recommender(index, local_embedder, MemoryProfileStore())


async def test_search_pick_recommend_returns_neighbours_never_the_pick(
    recommender: Recommender, sample_index: MovieIndex
) -> None:
    (hit,) = await recommender.search("die hard", k=1)
    result = await recommender.pick(ALICE, hit.movie.movie_id)
    assert result.applied and result == PickResult(PickOutcome.PICKED, hit.movie)
    recommended = await recommender.recommend(ALICE, k=5)
    ids = [rec.movie.movie_id for rec in recommended]
    assert hit.movie.movie_id not in ids
    assert {"Die Hard 2", "Die Hard with a Vengeance"} <= {rec.movie.title for rec in recommended}
    assert all(rec.reason == Reason(ReasonKind.CLOSE_TO_PICK, hit.movie) for rec in recommended)
    neighbours = sample_index.search(sample_index.vector(hit.movie.movie_id), k=12)
    assert set(ids) <= {n.movie.movie_id for n in neighbours}


async def test_picking_twice_or_replaying_changes_nothing(
    recommender: Recommender, store: MemoryProfileStore, sample_index: MovieIndex
) -> None:
    jaws, alien = movie_id(sample_index, "Jaws"), movie_id(sample_index, "Alien")
    assert (await recommender.pick(ALICE, jaws, idempotency_key="cb-1")).applied
    assert (await recommender.pick(ALICE, alien, idempotency_key="cb-2")).applied
    before = await store.load(ALICE)
    again = await recommender.pick(ALICE, jaws)
    replay = await recommender.pick(ALICE, alien, idempotency_key="cb-2")
    assert not again.applied and again == PickResult(
        PickOutcome.ALREADY_PICKED, sample_index.movie(jaws)
    )
    assert not replay.applied
    after = await store.load(ALICE)
    assert before is not None and after is not None
    assert after.picked == (jaws, alien) and np.array_equal(after.vector, before.vector)
    assert await store.pick_counts([jaws, alien]) == (1, 1)


async def test_unknown_movie_is_refused_without_state(
    recommender: Recommender, store: MemoryProfileStore
) -> None:
    for action in (recommender.pick, recommender.dislike):
        with pytest.raises(UnknownMovieError):
            await action(ALICE, 123_456_789)
    assert await store.load(ALICE) is None


async def test_dislike_before_any_pick_is_refused(
    recommender: Recommender, store: MemoryProfileStore, sample_index: MovieIndex
) -> None:
    with pytest.raises(NoTasteYetError):
        await recommender.dislike(ALICE, movie_id(sample_index, "Jaws"))
    assert await store.load(ALICE) is None


async def test_dislike_moves_away_and_hides_the_movie(
    recommender: Recommender, sample_index: MovieIndex, store: MemoryProfileStore
) -> None:
    await recommender.pick(ALICE, movie_id(sample_index, "Die Hard"))
    first = (await recommender.recommend(ALICE, k=1))[0].movie
    before = await store.load(ALICE)
    result = await recommender.dislike(ALICE, first.movie_id)
    after = await store.load(ALICE)
    assert result.applied and before and after and before.vector is not None
    target = sample_index.vector(first.movie_id)
    assert float(after.vector @ target) < float(before.vector @ target)
    assert first.movie_id not in {r.movie.movie_id for r in await recommender.recommend(ALICE, 20)}
    with pytest.raises(AlreadyPickedError):
        await recommender.dislike(ALICE, movie_id(sample_index, "Die Hard"))


async def test_undo_restores_the_previous_profile_exactly(
    recommender: Recommender, store: MemoryProfileStore, sample_index: MovieIndex, clock: Clock
) -> None:
    with pytest.raises(NothingToUndoError):
        await recommender.undo(ALICE)
    await recommender.pick(ALICE, movie_id(sample_index, "Alien"))
    clock.now += 40 * DAY
    await recommender.dislike(ALICE, movie_id(sample_index, "Titanic"))
    before = await store.load(ALICE)
    await recommender.pick(ALICE, movie_id(sample_index, "Titanic"))
    undone = await recommender.undo(ALICE)
    after = await store.load(ALICE)
    titanic = sample_index.movie(movie_id(sample_index, "Titanic"))
    assert undone == PickResult(PickOutcome.UNDID_PICK, titanic)
    assert before is not None and after is not None
    assert np.array_equal(after.vector, before.vector)
    assert (after.picked, after.disliked, after.last_pick_at) == (
        before.picked,
        before.disliked,
        before.last_pick_at,
    )
    assert await store.pick_counts([movie_id(sample_index, "Titanic")]) == (0,)


async def test_a_pick_after_a_long_gap_counts_more(
    sample_index: MovieIndex, local_embedder: OnnxEmbedder, clock: Clock
) -> None:
    alien, up = movie_id(sample_index, "Alien"), movie_id(sample_index, "Up")

    async def taste_after(gap_days: float) -> np.ndarray:
        store = MemoryProfileStore()
        recommender = Recommender(sample_index, local_embedder, store, clock=clock)
        await recommender.pick(ALICE, alien)
        clock.now += gap_days * DAY
        await recommender.pick(ALICE, up)
        profile = await store.load(ALICE)
        assert profile is not None and profile.vector is not None
        return profile.vector

    up_vector = sample_index.vector(up)
    assert float(await taste_after(365) @ up_vector) > float(await taste_after(1) @ up_vector)


async def test_cold_start_gets_a_diverse_starter_set(recommender: Recommender) -> None:
    starters = await recommender.recommend(ALICE, k=8)
    genres = {rec.movie.genres[0] for rec in starters}
    assert len(starters) == 8 and len({rec.movie.movie_id for rec in starters}) == 8
    assert len(genres) >= 4
    explored = await recommender.explore(ALICE, k=8)
    assert not {r.movie.movie_id for r in starters} & {r.movie.movie_id for r in explored}


async def test_explore_never_repeats_recommend_picks_or_dislikes(
    recommender: Recommender, sample_index: MovieIndex
) -> None:
    for title in ("Alien", "The Terminator", "The Matrix"):
        await recommender.pick(ALICE, movie_id(sample_index, title))
    await recommender.dislike(ALICE, movie_id(sample_index, "Aliens"))
    profile_ids = {movie_id(sample_index, t) for t in ("Alien", "The Terminator", "The Matrix")}
    shown = {rec.movie.movie_id for rec in await recommender.recommend(ALICE, k=5)}
    for strategy in recommender.strategy_names:
        for strength in (0.0, 0.3, 0.6, 1.0):
            explored = await recommender.explore(ALICE, 5, strategy, strength)
            ids = {rec.movie.movie_id for rec in explored}
            assert len(ids) == 5
            assert not ids & (shown | profile_ids | {movie_id(sample_index, "Aliens")})
            exploration = Exploration(strategy, strength)
            assert all(rec.reason.exploration == exploration for rec in explored)


@pytest.mark.parametrize(
    ("strategy", "strength", "refusal"),
    [
        ("warp", 0.3, UnknownStrategyError),
        ("angle", 1.5, StrengthOutOfRangeError),
        (None, -0.1, StrengthOutOfRangeError),
    ],
)
async def test_bad_exploration_arguments_are_refused(
    recommender: Recommender,
    strategy: str | None,
    strength: float,
    refusal: type[InvalidRequestError],
) -> None:
    with pytest.raises(refusal):
        await recommender.explore(ALICE, 5, strategy, strength)


async def test_profile_and_forget(
    recommender: Recommender, sample_index: MovieIndex, store: MemoryProfileStore
) -> None:
    for title in ("Toy Story", "Finding Nemo", "Jaws"):
        await recommender.pick(ALICE, movie_id(sample_index, title))
    await recommender.pick(BOB, movie_id(sample_index, "Jaws"))
    summary = await recommender.profile(ALICE)
    assert summary.pick_count == 3 and summary.dislike_count == 0
    assert [movie.title for movie in summary.last_picks] == ["Jaws", "Finding Nemo", "Toy Story"]
    assert "Animation" in summary.top_genres or "Family" in summary.top_genres
    await recommender.forget(ALICE)
    await recommender.forget(ALICE)
    assert (await recommender.profile(ALICE)).pick_count == 0
    assert (await recommender.profile(BOB)).pick_count == 1
    assert await store.pick_counts([movie_id(sample_index, "Jaws")]) == (1,)


async def test_profile_of_another_index_is_rebuilt_from_its_picks(
    recommender: Recommender, store: MemoryProfileStore, sample_index: MovieIndex
) -> None:
    picks = (movie_id(sample_index, "Alien"), movie_id(sample_index, "Rocky"))
    stale = TasteProfile("another-index", np.ones(7, np.float32), (*picks, 999_999))
    await store.update(ALICE, lambda _: stale)
    recommended = await recommender.recommend(ALICE, k=3)
    assert not {rec.movie.movie_id for rec in recommended} & set(picks)
    weight = TasteSettings().ema_weight
    expected = replay_picks([sample_index.vector(i) for i in picks], weight)
    near = sample_index.search(expected, k=3, exclude=set(picks))
    assert [rec.movie for rec in recommended] == [hit.movie for hit in near]


class TowardsFirstAxis:
    """Embeds every query as the first axis, so a movie's score is its first coordinate."""

    name, dim = "test:axis", 3

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        return np.array([1.0, 0.0, 0.0], np.float32)


def movies_at(scores: dict[str, float]) -> MovieIndex:
    """An index whose movies score as given against :class:`TowardsFirstAxis`."""
    movies = [Movie(number, title) for number, title in enumerate(scores)]
    vectors = np.array([[score, np.sqrt(1 - score**2), 0.0] for score in scores.values()])
    return MovieIndex.from_vectors(movies, vectors.astype(np.float32), "test:axis")


async def test_a_named_title_comes_first_among_near_ties() -> None:
    index = movies_at({"Live and Let Die": 0.446, "Die Hard 2": 0.444, "Heat": 0.2})
    recommender = Recommender(index, TowardsFirstAxis(), MemoryProfileStore())

    hits = await recommender.search("Die Hard", 3)

    assert [hit.movie.title for hit in hits] == ["Die Hard 2", "Live and Let Die", "Heat"]
    assert [round(hit.score, 3) for hit in hits] == [0.494, 0.446, 0.2]


async def test_a_named_title_does_not_jump_far_closer_movies() -> None:
    index = movies_at({"Skyscraper": 0.6, "Tower": 0.55, "Die Hard": 0.3})
    recommender = Recommender(index, TowardsFirstAxis(), MemoryProfileStore())

    hits = await recommender.search("die hard", 2)

    assert [hit.movie.title for hit in hits] == ["Skyscraper", "Tower"]


def ring_index(count: int = 12) -> MovieIndex:
    """Movies on a circle in 2-d (padded to 3-d): neighbours in id are neighbours in taste."""
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    vectors = np.stack([np.cos(angles), np.sin(angles), np.zeros(count)], axis=1)
    movies = [Movie(number, f"Movie {number}") for number in range(count)]
    return MovieIndex.from_vectors(movies, vectors.astype(np.float32), "test:axis")


@pytest.mark.parametrize("community", [1.0, 0.0])
async def test_the_community_brings_in_movies_far_from_the_taste(community: float) -> None:
    index, store = ring_index(), MemoryProfileStore()
    await store.seed_community("test", [[0, 6], *([n] for n in range(12) if n not in (0, 6))])
    weights = RankingWeights(candidates=3, community=community)
    recommender = Recommender(index, TowardsFirstAxis(), store, ranking=weights)
    await recommender.pick(ALICE, 0)

    found = await recommender.recommend(ALICE, 3)

    movie_6 = [rec for rec in found if rec.movie.movie_id == 6]
    if community:
        assert movie_6 and movie_6[0].reason == Reason(ReasonKind.PICKED_TOGETHER, index.movie(0))
    else:
        assert movie_6 == []
