"""The Recommender: the one object chat adapters, the demo and the CLI call."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence

import numpy as np

from core.community import community_scores
from core.errors import (
    IndexFileError,
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
    ProfileSummary,
    Recommendation,
    SearchHit,
    TasteProfile,
    UndoAction,
    UndoStep,
    UserRef,
    Vectors,
)
from core.ports import Embedder, ProfileStore, Telemetry
from core.profiles import fits, profile_exclusions, rebuilt, reverted, with_dislike, with_pick
from core.ranking import Ranker, RankingWeights, co_picked_hits
from core.starters import StarterSet
from core.taste import TasteSettings, exploration_strategies
from core.telemetry import Unobserved, timed
from core.text import clean_query, in_cyrillic, names_title, reads_many_languages

MAX_RESULTS = 50
SEARCH_CANDIDATES_PER_HIT = 4
# About the gap between a film and its sequel for a title query: "die hard" on the full
# catalog scores Die Hard 2 0.444 and Live and Let Die 0.444 (int8 model), 0.448/0.446 (fp32).
TITLE_MATCH_BONUS = 0.05
BATCH_CANDIDATES = 200  # per user in explore_many: 1,000 for 100k users would not fit a minute


class Recommender:
    """Search, picks and recommendations for every user, over an index and a store."""

    def __init__(
        self,
        index: MovieIndex,
        embedder: Embedder,
        store: ProfileStore,
        *,
        taste: TasteSettings | None = None,
        ranking: RankingWeights | None = None,
        rng: np.random.Generator | None = None,
        clock: Callable[[], float] = time.time,
        telemetry: Telemetry | None = None,
    ) -> None:
        if embedder.name != index.manifest.embedder:
            raise IndexFileError(
                f"the index was built with {index.manifest.embedder}, "
                f"but the embedder is {embedder.name}"
            )
        self._index = index
        self._embedder = embedder
        self._store = store
        self._taste = taste or TasteSettings()
        self._rng = rng or np.random.default_rng()
        self._clock = clock
        self._telemetry = telemetry or Unobserved()
        self._ranker = Ranker(index, ranking or RankingWeights())
        self._strategies = exploration_strategies(index.all_vectors())
        self._starters = StarterSet(index)
        self.validate_exploration(self._taste.explore_strategy, self._taste.explore_strength)

    @property
    def index(self) -> MovieIndex:
        return self._index

    @property
    def starters(self) -> StarterSet:
        """What a user with no picks is shown."""
        return self._starters

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(self._strategies)

    def reads(self, text: str) -> bool:
        """Whether the embedding model reads the language of ``text``: a query in
        Cyrillic needs a multilingual model (the packaged MiniLM reads English only)."""
        return not in_cyrillic(text) or reads_many_languages(self._embedder.name)

    async def warm_up(self) -> None:
        """Load the embedding model now, so that the first search does not wait for it.

        Raises:
            EmbedderError: the embedder cannot answer yet.
        """
        await asyncio.to_thread(self._embedder.embed_query, "warm up")

    async def search(self, text: str, k: int = 5) -> list[SearchHit]:
        """The movies closest to a free-text description.

        Among the nearest ``SEARCH_CANDIDATES_PER_HIT * k`` movies, one whose title the text
        names (see :func:`~core.text.names_title`) ranks as if ``TITLE_MATCH_BONUS`` closer:
        a typed title comes first among near ties, and never jumps far closer matches.

        Args:
            text: what the user typed; cleaned and cut to a sane length.
            k: how many results, clamped to 1..20.

        Raises:
            InvalidQueryError: nothing searchable is left of ``text``.
        """
        query = clean_query(text)
        with timed(self._telemetry, "embed"):
            vector = await asyncio.to_thread(self._embedder.embed_query, query)
        with timed(self._telemetry, "index"):
            hits = self._index.search(vector, _clamp(k) * SEARCH_CANDIDATES_PER_HIT)
        ranked = [SearchHit(hit.movie, _search_rank(query, hit)) for hit in hits]
        return sorted(ranked, key=lambda hit: hit.score, reverse=True)[: _clamp(k)]

    async def similar(self, user: UserRef, movie_id: int, k: int = 5) -> list[SearchHit]:
        """The movies nearest one movie, without it and the user's picks and dislikes.

        Raises:
            UnknownMovieError: no movie has this id.
        """
        exclude = {self._movie(movie_id).movie_id, *profile_exclusions(await self._load(user))}
        with timed(self._telemetry, "index"):
            return self._index.search(self._index.vector(movie_id), _clamp(k), exclude)

    async def pick(
        self, user: UserRef, movie_id: int, idempotency_key: str | None = None
    ) -> PickResult:
        """Move the user's taste towards a movie they liked.

        Picking a movie twice, or replaying an ``idempotency_key``, changes nothing.

        Raises:
            UnknownMovieError: no movie has this id.
        """
        movie = self._movie(movie_id)
        vector = self._index.vector(movie_id)
        now = self._clock()

        def change(stored: TasteProfile | None) -> TasteProfile | None:
            return with_pick(self._current(stored), movie, vector, now, self._taste)

        stored = await self._store.update(user, change, idempotency_key)
        if stored.applied:
            self._telemetry.picked(user.platform)
        outcome = PickOutcome.PICKED if stored.applied else PickOutcome.ALREADY_PICKED
        return PickResult(outcome, movie)

    async def dislike(
        self, user: UserRef, movie_id: int, idempotency_key: str | None = None
    ) -> PickResult:
        """ "Less like this": move the taste away from a movie and never show it again.

        Raises:
            UnknownMovieError: no movie has this id.
            NoTasteYetError: the user has no pick yet.
            AlreadyPickedError: the user picked this movie.
        """
        movie = self._movie(movie_id)
        vector = self._index.vector(movie_id)

        def change(stored: TasteProfile | None) -> TasteProfile | None:
            return with_dislike(self._current(stored), movie, vector, self._taste)

        stored = await self._store.update(user, change, idempotency_key)
        outcome = PickOutcome.DISLIKED if stored.applied else PickOutcome.ALREADY_DISLIKED
        return PickResult(outcome, movie)

    async def undo(self, user: UserRef, idempotency_key: str | None = None) -> PickResult:
        """Revert the user's last pick or dislike exactly.

        Raises:
            NothingToUndoError: the undo history is empty.
        """
        undone: list[UndoStep] = []

        def change(stored: TasteProfile | None) -> TasteProfile | None:
            profile = self._current(stored)
            if not profile.undo:
                raise NothingToUndoError()
            step = profile.undo[-1]
            undone[:] = [step]
            return reverted(profile, step)

        stored = await self._store.update(user, change, idempotency_key)
        if not undone or not stored.applied:
            return PickResult(PickOutcome.ALREADY_UNDONE, None)
        (step,) = undone
        undid_pick = step.action is UndoAction.PICK
        outcome = PickOutcome.UNDID_PICK if undid_pick else PickOutcome.UNDID_DISLIKE
        return PickResult(outcome, self._movie(step.movie_id))

    async def recommend(self, user: UserRef, k: int = 5) -> list[Recommendation]:
        """The movies nearest the user's taste, re-ranked with popularity priors.

        A user with no picks gets the starter set. Picked and disliked movies never
        come back.
        """
        return await self._recommended(await self._load(user), _clamp(k))

    async def explore(
        self,
        user: UserRef,
        k: int = 5,
        strategy: str | None = None,
        strength: float | None = None,
    ) -> list[Recommendation]:
        """Recommendations from a perturbed copy of the taste: a step outside it.

        Never repeats what :meth:`recommend` shows at the same moment.

        Raises:
            UnknownStrategyError: no exploration strategy has this name.
            StrengthOutOfRangeError: the strength is outside [0, 1].
        """
        name = strategy or self._taste.explore_strategy
        level = self._taste.explore_strength if strength is None else strength
        self.validate_exploration(name, level)
        profile = await self._load(user)
        k = _clamp(k)
        if profile.vector is None:
            shown = {movie.movie_id for movie in self._starters.movies()[:k]}
            return self._starters.recommendations(k, {*profile.disliked, *shown}, offset=k)
        shown = {rec.movie.movie_id for rec in await self._recommended(profile, k)}
        perturbed = self._strategies[name](profile.vector, self._rng, level)
        exclude = {*profile_exclusions(profile), *shown}
        return await self._ranked(profile, perturbed, k, exclude, Exploration(name, level))

    def explore_many(
        self,
        profiles: Sequence[TasteProfile | None],
        exclusions: Sequence[Collection[int]],
        pick_counts: Sequence[int],
        k: int,
        strength: float,
        rng: np.random.Generator,
    ) -> list[list[Recommendation]]:
        """Exploratory recommendations for many users, with one Faiss search for all.

        CPU-bound and touching no store: run it in a thread, with an ``rng`` of its own.

        Args:
            profiles: each user's stored profile (``None``: nothing stored yet).
            exclusions: per user, movies to leave out besides their picks and dislikes.
            pick_counts: how many users picked each movie, in ``index.movies`` order.
            k: movies per user.
            strength: how far from each taste, 0 to 1.
            rng: the randomness of the perturbations.
        """
        current = [self._current(profile) for profile in profiles]
        excluded = [
            {*profile_exclusions(profile), *extra}
            for profile, extra in zip(current, exclusions, strict=True)
        ]
        found = [
            self._starters.recommendations(k, excluded[n]) if profile.vector is None else []
            for n, profile in enumerate(current)
        ]
        tastes = {n: p.vector for n, p in enumerate(current) if p.vector is not None}
        if not tastes:
            return found
        perturb = self._strategies[self._taste.explore_strategy]
        queries = np.stack([perturb(vector, rng, strength) for vector in tastes.values()])
        wanted = BATCH_CANDIDATES + max(len(excluded[n]) for n in tastes)
        with timed(self._telemetry, "index"):
            scores, positions = self._index.nearest_positions(queries, wanted)
        counts = np.asarray(pick_counts, dtype=np.float64)
        for row, n in enumerate(tastes):
            keep = [
                column
                for column, position in enumerate(positions[row])
                if position >= 0 and self._index.movies[position].movie_id not in excluded[n]
            ]
            found[n] = self._ranker.ranked_positions(
                current[n], scores[row][keep], positions[row][keep], counts, k, Exploration()
            )
        return found

    async def profile(self, user: UserRef) -> ProfileSummary:
        """How many picks, the top genres and the last picks of a user."""
        profile = await self._load(user)
        picked = [self._index.movie(movie_id) for movie_id in profile.picked]
        movies = [movie for movie in picked if movie is not None]
        genres = Counter(genre for movie in movies for genre in movie.genres)
        return ProfileSummary(
            pick_count=profile.pick_count,
            dislike_count=len(profile.disliked),
            top_genres=tuple(genre for genre, _ in genres.most_common(3)),
            last_picks=tuple(reversed(movies[-5:])),
        )

    async def profiles(self, users: Sequence[UserRef]) -> list[TasteProfile]:
        """The profiles of many users, in input order, each fit for this index (rebuilt
        from its picks when it was made for another)."""
        return [self._current(stored) for stored in await self._store.load_many(users)]

    async def forget(self, user: UserRef) -> None:
        """Delete everything stored about the user."""
        await self._store.forget(user)

    def validate_exploration(self, strategy: str, strength: float) -> None:
        """Refuse an unknown strategy or a strength outside [0, 1].

        Raises:
            UnknownStrategyError: no exploration strategy has this name.
            StrengthOutOfRangeError: the strength is outside [0, 1].
        """
        if strategy not in self._strategies:
            raise UnknownStrategyError(strategy, tuple(self._strategies))
        if not 0.0 <= strength <= 1.0:
            raise StrengthOutOfRangeError(strength)

    async def _recommended(self, profile: TasteProfile, k: int) -> list[Recommendation]:
        if profile.vector is None:
            return self._starters.recommendations(k, profile.disliked)
        return await self._ranked(profile, profile.vector, k, profile_exclusions(profile))

    async def _ranked(
        self,
        profile: TasteProfile,
        vector: Vectors,
        k: int,
        exclude: Collection[int],
        exploration: Exploration | None = None,
    ) -> list[Recommendation]:
        """The best ``k`` of the movies nearest ``vector``; without an exploration, the
        co-pick neighbours of the user's recent picks are candidates too."""
        with timed(self._telemetry, "index"):
            hits = self._index.search(vector, max(k, self._ranker.candidates), exclude)
        community = None
        recent = profile.picked[-self._ranker.weights.recent_picks :]
        if exploration is None and recent and self._ranker.weights.community:
            neighbours = await self._store.co_picks(recent)
            hits = [
                *hits,
                *co_picked_hits(self._index, vector, neighbours, {*exclude, *_ids(hits)}),
            ]
            wanted = {*_ids(hits), *recent}
            counts = dict(zip(wanted, await self._store.pick_counts(list(wanted)), strict=True))
            community = community_scores(recent, neighbours, counts)
        else:
            counts = dict(zip(_ids(hits), await self._store.pick_counts(_ids(hits)), strict=True))
        return self._ranker.ranked(profile, hits, counts, k, exploration, community)

    async def _load(self, user: UserRef) -> TasteProfile:
        return self._current(await self._store.load(user))

    def _current(self, stored: TasteProfile | None) -> TasteProfile:
        """The stored profile if it fits this index; else one rebuilt from its picks."""
        if stored is None:
            return TasteProfile(fingerprint=self._index.fingerprint)
        if stored.fingerprint == self._index.fingerprint and fits(stored, self._index.dim):
            return stored
        return rebuilt(stored, self._index, self._taste.ema_weight)

    def _movie(self, movie_id: int) -> Movie:
        movie = self._index.movie(movie_id)
        if movie is None:
            raise UnknownMovieError(movie_id)
        return movie


def _clamp(k: int) -> int:
    return min(max(k, 1), MAX_RESULTS)


def _ids(hits: Sequence[SearchHit]) -> list[int]:
    return [hit.movie.movie_id for hit in hits]


def _search_rank(query: str, hit: SearchHit) -> float:
    return hit.score + TITLE_MATCH_BONUS * names_title(query, hit.movie.title)
