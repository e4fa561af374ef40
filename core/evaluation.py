"""Offline evaluation: replay real users' liked movies as picks, score the top 10 shown.

Protocol: every user with at least three liked movies (rating >= 4.0) in the catalog
is replayed in time order. Before each of their picks after the first, each strategy
shows its top 10 (the user's earlier picks excluded); a hit is the movie picked next.

No leakage: the events of all users are replayed in one global time order, so the
bot's pick counts (the ``bot_picks`` prior) and co-pick counts (the ``community`` term)
at the moment of a prediction hold only picks made before it. They include the user's
own earlier picks, as in production, but those are excluded from the list, so they
cannot lift a hit. Catalog popularity (TMDB vote counts) is metadata fixed before the
replay, not learned from the ratings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from core.community import (
    CommunityScores,
    CoPickCounts,
    CoPickSettings,
    co_pick_changes,
    community_scores,
)
from core.models import Movie, Vectors
from core.ranking import RankingWeights, blend_scores, popularity_prior
from core.ratings import Pick
from core.taste import (
    ExplorationStrategy,
    bucket_noise,
    decayed_weight,
    ema_step,
    gaussian_noise,
    rotate_by_angle,
    unit,
)

TOP_K = 10


@dataclass(frozen=True, slots=True)
class StrategyScores:
    """How one strategy did over every prediction of a replay."""

    name: str
    hr10: float
    ndcg10: float
    coverage: float
    diversity: float


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """The outcome of one replay."""

    users: int
    events: int
    strategies: tuple[StrategyScores, ...]

    def as_json(self) -> dict[str, object]:
        """The report in the shape ``moviebot eval --json`` prints."""
        return {
            "users": self.users,
            "events": self.events,
            "strategies": {
                s.name: {
                    "hr10": s.hr10,
                    "ndcg10": s.ndcg10,
                    "coverage": s.coverage,
                    "diversity": s.diversity,
                }
                for s in self.strategies
            },
        }


@dataclass(frozen=True, slots=True)
class ReplayStrategy:
    """How a strategy moves a taste and ranks the catalog.

    ``kind`` is ``taste`` (nearest to the taste vector, optionally blended with
    priors and the community), ``popularity`` or ``random``. ``prototype`` replays the
    original program: start at the catalog mean, ``(5 v + e) / 6`` without normalizing.
    An ``explore`` strategy perturbs the taste and leaves out what the same taste's
    recommendations show; like ``/explore``, it does not use the community.
    ``catalog_popularity`` off replays a catalog without a popularity column.
    """

    name: str
    kind: str = "taste"
    weight: float = 0.5
    half_life_days: float = 0.0
    ranking: RankingWeights | None = None
    prototype: bool = False
    explore: str | None = None
    strength: float = 0.0
    catalog_popularity: bool = True

    @property
    def uses_community(self) -> bool:
        return self.community_picks > 0

    @property
    def community_picks(self) -> int:
        """How many latest picks the community term looks at; 0 when it is not used."""
        if self.ranking is None or self.ranking.community == 0 or self.explore is not None:
            return 0
        return self.ranking.recent_picks


@dataclass(slots=True)
class _UserState:
    taste: Vectors | None = None
    last_at: float | None = None
    picked: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Tally:
    hits: int = 0
    gain: float = 0.0
    predictions: int = 0
    diversity: float = 0.0
    shown: set[int] = field(default_factory=set)


def evaluate(
    movies: Sequence[Movie],
    vectors: Vectors,
    picks: Sequence[Pick],
    strategies: Sequence[ReplayStrategy],
    seed: int = 0,
    community: CoPickSettings | None = None,
) -> EvaluationReport:
    """Replay ``picks`` in order and score every strategy on the same predictions."""
    replay = _Replay(movies, vectors, seed, community or CoPickSettings())
    states: dict[str, defaultdict[int, _UserState]] = {
        s.name: defaultdict(_UserState) for s in strategies
    }
    tallies = {s.name: _Tally() for s in strategies}
    histories: defaultdict[int, list[int]] = defaultdict(list)
    recent = max((s.community_picks for s in strategies), default=0)
    for pick in picks:
        target = replay.positions[pick.movie_id]
        history = histories[pick.user]
        scores = replay.community(history[-recent:]) if recent and history else None
        for strategy in strategies:
            state = states[strategy.name][pick.user]
            if state.picked:
                shown = replay.top(strategy, state, scores)
                replay.record(tallies[strategy.name], shown, target)
            replay.apply(strategy, state, target, pick.timestamp)
        replay.count(history, target)
    return EvaluationReport(
        users=len({pick.user for pick in picks}),
        events=next(iter(tallies.values())).predictions if tallies else 0,
        strategies=tuple(_scores(name, t, len(movies)) for name, t in tallies.items()),
    )


class _Replay:
    """The catalog as arrays, and the maths each strategy applies to it."""

    def __init__(
        self, movies: Sequence[Movie], vectors: Vectors, seed: int, community: CoPickSettings
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.co_picks = CoPickCounts(community)
        self.positions = {movie.movie_id: pos for pos, movie in enumerate(movies)}
        prior = popularity_prior(movies)
        self.popularity = np.array([prior.get(m.movie_id, 0.0) for m in movies])
        self.pick_counts = np.zeros(len(movies))
        self.rng = np.random.default_rng(seed)
        self.mean = self.vectors.mean(axis=0)
        self.explorers: dict[str, ExplorationStrategy] = {
            "angle": rotate_by_angle,
            "gaussian": gaussian_noise,
            "bucket": _bucket(self.vectors),
        }

    def apply(self, strategy: ReplayStrategy, state: _UserState, target: int, at: float) -> None:
        movie = self.vectors[target]
        if strategy.prototype:
            start = self.mean if state.taste is None else state.taste
            state.taste = ((5 * start + movie) / 6).astype(np.float32)
        else:
            elapsed = at - state.last_at if state.last_at is not None else None
            weight = decayed_weight(strategy.weight, elapsed, strategy.half_life_days)
            state.taste = ema_step(state.taste, movie, weight)
        state.last_at = at
        state.picked.append(target)

    def count(self, history: list[int], target: int) -> None:
        """The bot's pick and co-pick counts after a pick of ``target``."""
        window = self.co_picks.settings.window
        self.co_picks.apply(co_pick_changes(history, [*history, target], window))
        history.append(target)
        self.pick_counts[target] += 1

    def community(self, recent: Sequence[int]) -> CommunityScores:
        """The co-pick scores for a user whose latest picks are ``recent``."""
        neighbours = [self.co_picks.neighbours(position) for position in recent]
        return community_scores(recent, neighbours, _CountsOf(self.pick_counts))

    def top(
        self, strategy: ReplayStrategy, state: _UserState, community: CommunityScores | None
    ) -> np.ndarray:
        if strategy.kind == "random":
            return self._best(self.rng.random(len(self.vectors)), state.picked)
        if strategy.kind == "popularity":
            return self._best(self.popularity.copy(), state.picked)
        assert state.taste is not None
        if strategy.explore is None:
            shared = community if strategy.uses_community else None
            return self._by_taste(strategy, state.taste, state.picked, shared)
        shown = self._by_taste(strategy, state.taste, state.picked)
        explorer = self.explorers[strategy.explore]
        perturbed = explorer(unit(state.taste), self.rng, strategy.strength)
        return self._by_taste(strategy, perturbed, [*state.picked, *shown])

    def record(self, tally: _Tally, shown: np.ndarray, target: int) -> None:
        tally.predictions += 1
        tally.shown.update(shown.tolist())
        found = np.flatnonzero(shown == target)
        if len(found):
            tally.hits += 1
            tally.gain += 1.0 / math.log2(int(found[0]) + 2)
        chosen = self.vectors[shown]
        similarity = chosen @ chosen.T
        pairs = len(shown) * (len(shown) - 1)
        tally.diversity += float((pairs - (similarity.sum() - np.trace(similarity))) / pairs)

    def _by_taste(
        self,
        strategy: ReplayStrategy,
        taste: Vectors,
        excluded: Sequence[int],
        community: CommunityScores | None = None,
    ) -> np.ndarray:
        similarity = (self.vectors @ taste).astype(np.float64)
        if strategy.ranking is None:
            return self._best(similarity, excluded)
        candidates = self._best(similarity, excluded, strategy.ranking.candidates)
        shared = np.zeros(len(self.vectors))
        if community is not None and community.scores:
            scored = np.fromiter(community.scores, dtype=np.int64)
            shared[scored] = np.fromiter(community.scores.values(), dtype=np.float64)
            joined = np.union1d(candidates, scored)
            candidates = joined[~np.isin(joined, excluded)]
        popularity = self.popularity if strategy.catalog_popularity else np.zeros_like(shared)
        blended = blend_scores(
            similarity[candidates],
            popularity[candidates],
            self.pick_counts[candidates],
            strategy.ranking,
            shared[candidates],
        )
        return candidates[np.argsort(-blended, kind="stable")[:TOP_K]]

    @staticmethod
    def _best(scores: np.ndarray, excluded: Sequence[int], k: int = TOP_K) -> np.ndarray:
        scores = scores.astype(np.float64, copy=True)
        scores[list(excluded)] = -np.inf
        k = min(k, len(scores) - len(set(excluded)))
        top = np.argpartition(-scores, k - 1)[:k]
        return top[np.argsort(-scores[top], kind="stable")]


class _CountsOf(Mapping[int, int]):
    """The replay's pick counts array, read as a mapping from catalog position."""

    def __init__(self, counts: np.ndarray) -> None:
        self._counts = counts

    def __getitem__(self, position: int) -> int:
        return int(self._counts[position])

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self._counts)))

    def __len__(self) -> int:
        return len(self._counts)


def _bucket(vectors: Vectors) -> ExplorationStrategy:
    return bucket_noise(vectors.min(axis=0), vectors.max(axis=0))


def _scores(name: str, tally: _Tally, catalog_size: int) -> StrategyScores:
    predictions = max(tally.predictions, 1)
    return StrategyScores(
        name=name,
        hr10=tally.hits / predictions,
        ndcg10=tally.gain / predictions,
        coverage=len(tally.shown) / catalog_size,
        diversity=tally.diversity / predictions,
    )


def standard_strategies(
    taste_weight: float, half_life_days: float, ranking: RankingWeights
) -> list[ReplayStrategy]:
    """The strategies ``moviebot eval`` compares; ``default`` is what recommend ships,
    ``default-no-community`` the default before co-picks counted, and
    ``no-catalog-popularity`` the default on a catalog without popularity (Cohere's,
    the bundled sample)."""

    default = ReplayStrategy(
        "default", weight=taste_weight, half_life_days=half_life_days, ranking=ranking
    )
    explorers = [
        replace(default, name=f"explore-{name}-{strength}", explore=name, strength=strength)
        for name in ("gaussian", "bucket", "angle")
        for strength in (0.3, 0.6)
    ]
    return [
        ReplayStrategy("prototype", prototype=True),
        ReplayStrategy("ema", weight=taste_weight),
        default,
        replace(default, name="default-no-community", ranking=replace(ranking, community=0.0)),
        replace(default, name="no-catalog-popularity", catalog_popularity=False),
        ReplayStrategy("popularity", kind="popularity"),
        ReplayStrategy("random", kind="random"),
        *explorers,
    ]
