"""Community taste: "people who picked X also picked Y".

A user's picks, in the order they were made, count pairs: each pick of a movie ``m``
pairs ``m`` with each of the user's ``window`` picks before it, both ways. Summed over
all users, ``co(q, m)`` says how often ``q`` and ``m`` were picked close together; each
movie keeps its ``neighbours`` strongest pairs. For a user whose recent picks are ``Q``,
a movie ``m`` scores

    sum over q in Q of co(q, m) / sqrt(picks(q) * picks(m))

(``picks``: how many users have the movie among their picks), a cosine between the two
movies' pickers, so that blockbusters picked with everything do not win by numbers.

A user's share of the counts is a function of their picks alone. So a store moves the
counts by the difference between a profile's picks before and after an update
(:func:`co_pick_changes`): a replayed update moves nothing, an undo takes back exactly
what its pick added, and forgetting a user takes back all of their share.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CoPickChanges = dict[int, dict[int, int]]
"""movie id -> neighbour id -> how much the pair's count moves."""


@dataclass(frozen=True, slots=True)
class CoPickSettings:
    """How co-pick counts are kept.

    Changing ``window`` once users have picked makes later undos and forgets take back
    pairs counted with the other window: choose it before the bot goes live.
    """

    window: int = 10
    neighbours: int = 200

    @property
    def trim_above(self) -> int:
        """A movie's pairs are trimmed to ``neighbours`` once they pass this many, so
        trimming costs once per ``neighbours // 4`` new pairs, not on every pick."""
        return self.neighbours + max(self.neighbours // 4, 1)


class CoPickMoves:
    """How the pair counts move, gathered from one or many changes of users' picks."""

    def __init__(self, window: int) -> None:
        self._window = window
        self._moves: defaultdict[int, dict[int, int]] = defaultdict(dict)

    def add(self, before: Sequence[int], after: Sequence[int]) -> CoPickMoves:
        """Add the move of one user's picks from ``before`` to ``after``.

        Picks both lists share from the start count the same pairs in both, so only the
        rest is counted: a new pick costs ``window`` pairs, not the whole history.
        """
        start = _shared_start(before, after)
        for sign, picks in ((-1, before), (1, after)):
            for position in range(start, len(picks)):
                movie = picks[position]
                mine = self._moves[movie]
                for earlier in picks[max(0, position - self._window) : position]:
                    mine[earlier] = mine.get(earlier, 0) + sign
                    theirs = self._moves[earlier]
                    theirs[movie] = theirs.get(movie, 0) + sign
        return self

    def changes(self) -> CoPickChanges:
        """The moves gathered so far, pairs that cancel out left out."""
        return {
            movie: moved
            for movie, counts in self._moves.items()
            if (moved := {other: delta for other, delta in counts.items() if delta})
        }


def co_pick_changes(before: Sequence[int], after: Sequence[int], window: int) -> CoPickChanges:
    """How the pair counts move when a user's picks go from ``before`` to ``after``."""
    return CoPickMoves(window).add(before, after).changes()


def seeded_changes(
    histories: Iterable[Sequence[int]], window: int
) -> tuple[CoPickChanges, Counter[int]]:
    """The pair counts and pick counts that anonymous pick histories add."""
    moves, picks = CoPickMoves(window), Counter[int]()
    for history in histories:
        picks.update(set(history))
        moves.add((), history)
    return moves.changes(), picks


def strongest(counts: Mapping[int, int], keep: int) -> dict[int, int]:
    """The ``keep`` highest positive counts; among equal counts, the smaller ids."""
    ranked = sorted(((-count, movie) for movie, count in counts.items() if count > 0))
    return {movie: -negative for negative, movie in ranked[:keep]}


class CoPickCounts:
    """Pair counts in memory, trimmed as a store trims them (the memory store and the
    offline replay keep theirs here)."""

    def __init__(self, settings: CoPickSettings = CoPickSettings()) -> None:
        self.settings = settings
        self._pairs: defaultdict[int, dict[int, int]] = defaultdict(dict)

    def apply(self, changes: CoPickChanges) -> None:
        """Move the counts; a count that falls to zero or below is dropped."""
        for movie, moved in changes.items():
            counts = self._pairs[movie]
            for other, delta in moved.items():
                count = counts.get(other, 0) + delta
                if count > 0:
                    counts[other] = count
                else:
                    counts.pop(other, None)
            if len(counts) > self.settings.trim_above:
                self._pairs[movie] = strongest(counts, self.settings.neighbours)
            if not self._pairs[movie]:
                del self._pairs[movie]

    def neighbours(self, movie_id: int) -> dict[int, int]:
        """The movies picked close to ``movie_id``, with their counts."""
        return dict(self._pairs.get(movie_id, {}))

    def __bool__(self) -> bool:
        return bool(self._pairs)


@dataclass(frozen=True, slots=True)
class CommunityScores:
    """Each movie's co-pick score for one user, and the recent pick that adds most to it."""

    scores: dict[int, float]
    strongest_source: dict[int, int]


def community_scores(
    recent: Sequence[int],
    neighbours: Sequence[Mapping[int, int]],
    pick_counts: Mapping[int, int],
) -> CommunityScores:
    """Score the neighbours of ``recent`` picks (``neighbours[i]`` of ``recent[i]``)."""
    sources = np.repeat(np.asarray(recent, dtype=np.int64), [len(found) for found in neighbours])
    movies = np.fromiter((m for found in neighbours for m in found), np.int64, len(sources))
    counts = np.fromiter((c for found in neighbours for c in found.values()), np.float64)
    if not len(movies):
        return CommunityScores({}, {})
    picks = np.fromiter((pick_counts.get(m, 0) for m in movies.tolist()), np.float64, len(movies))
    source_picks = np.fromiter((pick_counts.get(s, 0) for s in sources.tolist()), np.float64)
    shares = counts / np.sqrt(np.maximum(source_picks, 1) * np.maximum(picks, 1))
    scored, group = np.unique(movies, return_inverse=True)
    totals = np.bincount(group, weights=shares)
    strongest_first = np.lexsort((-shares, group))
    first_of_group = strongest_first[np.r_[True, np.diff(group[strongest_first]) != 0]]
    ids = scored.tolist()
    return CommunityScores(
        dict(zip(ids, totals.tolist(), strict=True)),
        dict(zip(ids, sources[first_of_group].tolist(), strict=True)),
    )


def _shared_start(before: Sequence[int], after: Sequence[int]) -> int:
    if tuple(after[: len(before)]) == tuple(before):  # picks only added: the common case
        return len(before)
    shared = 0
    for old, new in zip(before, after, strict=False):
        if old != new:
            break
        shared += 1
    return shared
