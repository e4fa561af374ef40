"""Offline evaluation of group lists: random groups of real users at a moment in time.

Protocol (``moviebot eval --groups``): a moment is the time of a liked rating drawn at
random; the users who liked at least ``MIN_PICKS`` movies by then and one after it can
meet then, and 3 to 5 of them, drawn at random, make a group. Each member's taste is
their liked movies up to the moment replayed as picks (the EMA with time decay, as the
bot keeps it); nothing any member picked is listed. A strategy's list of 10 is scored by:

- group hit rate: the share of members whose next liked movie is in the list;
- worst member: the lowest, over the members, of a member's mean percentile of the
  listed movies (their percentile: the share of the catalog their taste ranks below
  the movie; 1 is the movie nearest their taste);
- best member: the highest of the same.

The draws use one seed, so every strategy is scored on the same groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.group import GroupStrategy, GroupWeights, rank_for_group
from core.models import Movie, Vectors
from core.ranking import popularity_prior
from core.ratings import Pick
from core.taste import TasteSettings, decayed_weight, ema_step

LIST_SIZE = 10
GROUP_SIZES = (3, 5)
MIN_PICKS = 3
GROUPS = 1000
DRAWS_PER_GROUP = 20  # a moment that gathers too few users is drawn again


@dataclass(frozen=True, slots=True)
class GroupCase:
    """A group met at ``moment``: MovieLens user ids."""

    moment: float
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class GroupScores:
    """How one strategy did, averaged over the groups."""

    name: str
    hit_rate: float
    worst: float
    best: float


@dataclass(frozen=True, slots=True)
class GroupReport:
    """The outcome of one group evaluation."""

    groups: int
    members: int
    strategies: tuple[GroupScores, ...]

    def as_json(self) -> dict[str, object]:
        """The report in the shape ``moviebot eval --groups --json`` prints."""
        return {
            "groups": self.groups,
            "members": self.members,
            "strategies": {
                s.name: {"hit_rate": s.hit_rate, "worst": s.worst, "best": s.best}
                for s in self.strategies
            },
        }


@dataclass(slots=True)
class _History:
    """One user's liked movies in time order: timestamps and catalog positions."""

    times: list[float] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)

    def before(self, moment: float) -> int:
        """How many likes are at or before ``moment``."""
        return int(np.searchsorted(self.times, moment, side="right"))


def group_strategies() -> list[tuple[str, GroupWeights]]:
    """The strategies ``moviebot eval --groups`` compares: ``fair`` ships, and the last
    two are its ends (fairness 0 and 1), to tell what each of its parts brings."""
    return [
        ("mean", GroupWeights(GroupStrategy.MEAN)),
        ("least-misery", GroupWeights(GroupStrategy.LEAST_MISERY)),
        ("fair", GroupWeights(GroupStrategy.FAIR)),
        ("mean-of-percentiles", GroupWeights(GroupStrategy.FAIR, fairness=0.0)),
        ("least-misery-of-percentiles", GroupWeights(GroupStrategy.FAIR, fairness=1.0)),
    ]


def sample_groups(picks: Sequence[Pick], count: int, rng: np.random.Generator) -> list[GroupCase]:
    """``count`` groups of 3 to 5 users who can meet at a moment drawn from ``picks`` (in
    time order; see the module docstring); fewer when the ratings rarely gather enough."""
    if not picks:
        return []
    timelines: defaultdict[int, list[float]] = defaultdict(list)
    for pick in picks:
        timelines[pick.user].append(pick.timestamp)
    cases: list[GroupCase] = []
    for _ in range(count * DRAWS_PER_GROUP):
        if len(cases) == count:
            break
        moment = picks[int(rng.integers(len(picks)))].timestamp
        present = [
            user
            for user, times in sorted(timelines.items())
            if MIN_PICKS <= np.searchsorted(times, moment, side="right") < len(times)
        ]
        size = int(rng.integers(GROUP_SIZES[0], GROUP_SIZES[1] + 1))
        if len(present) >= size:
            members = rng.choice(present, size=size, replace=False)
            cases.append(GroupCase(moment, tuple(int(user) for user in members)))
    return cases


def evaluate_groups(
    movies: Sequence[Movie],
    vectors: Vectors,
    picks: Sequence[Pick],
    strategies: Sequence[tuple[str, GroupWeights]],
    groups: int = GROUPS,
    seed: int = 0,
    taste: TasteSettings | None = None,
) -> GroupReport:
    """Score every strategy on the same ``groups`` random groups of ``picks``' users."""
    taste = taste or TasteSettings()
    positions = {movie.movie_id: position for position, movie in enumerate(movies)}
    histories = _histories(picks, positions)
    prior = popularity_prior(movies)
    popularity = np.array([prior.get(movie.movie_id, 0.0) for movie in movies])
    totals = {name: np.zeros(3) for name, _ in strategies}
    cases = sample_groups(picks, groups, np.random.default_rng(seed))
    for case in cases:
        similarity, excluded, targets = _group_at(case, histories, vectors, taste)
        for name, weights in strategies:
            listed = rank_for_group(similarity, excluded, popularity, LIST_SIZE, weights)
            totals[name] += _scored(listed.positions, listed.fits, targets)
    scale = max(len(cases), 1)
    return GroupReport(
        groups=len(cases),
        members=sum(len(case.members) for case in cases),
        strategies=tuple(
            GroupScores(name, *(float(value) for value in totals[name] / scale))
            for name, _ in strategies
        ),
    )


def _scored(listed: np.ndarray, fits: np.ndarray, targets: Sequence[int]) -> np.ndarray:
    """Hit rate, worst and best member's mean percentile of one group's list."""
    hits = np.mean([target in listed for target in targets])
    per_member = fits.mean(axis=0)
    return np.array([hits, per_member.min(), per_member.max()])


def _group_at(
    case: GroupCase, histories: dict[int, _History], vectors: Vectors, taste: TasteSettings
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The members' similarities to the catalog at the moment, the movies they picked by
    then, and each one's next pick."""
    members = [histories[user] for user in case.members]
    seen = [member.before(case.moment) for member in members]
    pairs = list(zip(members, seen, strict=True))
    tastes = np.stack([_replayed(member, count, vectors, taste) for member, count in pairs])
    excluded = np.zeros(len(vectors), dtype=bool)
    for member, count in pairs:
        excluded[member.positions[:count]] = True
    return tastes @ vectors.T, excluded, [member.positions[count] for member, count in pairs]


def _replayed(history: _History, count: int, vectors: Vectors, taste: TasteSettings) -> Vectors:
    """The taste after the first ``count`` likes of ``history``, as the bot would keep it."""
    vector: Vectors | None = None
    last: float | None = None
    for at, position in zip(history.times[:count], history.positions[:count], strict=True):
        elapsed = None if last is None else at - last
        weight = decayed_weight(taste.ema_weight, elapsed, taste.half_life_days)
        vector, last = ema_step(vector, vectors[position], weight), at
    assert vector is not None
    return vector


def _histories(picks: Sequence[Pick], positions: dict[int, int]) -> dict[int, _History]:
    histories: defaultdict[int, _History] = defaultdict(_History)
    for pick in picks:
        history = histories[pick.user]
        history.times.append(pick.timestamp)
        history.positions.append(positions[pick.movie_id])
    return dict(histories)
