"""The maths of one list for a whole group: several tastes in, movies ranked for all of
them out, with how well each movie fits each member.

Every member's taste scores every movie of the catalog by cosine similarity; a
member's *percentile* of a movie is the share of the catalog that member's taste ranks
below it (1 is the movie nearest their taste). A strategy combines the members' scores
of a movie into one:

- ``mean``: the mean of the members' similarities, which ranks as the similarity to
  the mean of their tastes;
- ``least-misery``: the lowest of the members' similarities;
- ``fair``: ``(1 - fairness) * mean + fairness * min`` of the members' percentiles.
  Percentiles put every member on the same scale (a taste in a dense corner of the
  catalog has high similarities to everything), and the ``min`` term lifts the member
  the list would otherwise leave behind.

As for one user (:mod:`core.ranking`), the ``candidates`` best by the combination are
re-ranked by ``z(combination) + popularity * z(log votes)``. Excluded movies (what any
member picked or marked "less like this") are never candidates.

Member order never matters: a movie's scores are sorted before they are combined, so
the sums run in the same order whatever order the members come in.

``docs/evaluation.md`` compares the strategies on real users; ``fair`` ships.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from core.index import MovieIndex
from core.models import Movie, Vectors

FITS_FROM = 0.9
"""A movie fits a member when it is in the best 10% of the catalog for their taste."""


class GroupStrategy(StrEnum):
    """How the members' scores of a movie become the group's."""

    MEAN = "mean"
    LEAST_MISERY = "least-misery"
    FAIR = "fair"


@dataclass(frozen=True, slots=True)
class GroupWeights:
    """The strategy, the weight of the worst-off member in ``fair``, and the re-ranking
    by popularity of the ``candidates`` best."""

    strategy: GroupStrategy = GroupStrategy.FAIR
    fairness: float = 0.5
    popularity: float = 2.0
    candidates: int = 1000


@dataclass(frozen=True, slots=True, eq=False)
class GroupRanking:
    """Catalog positions, best first, their scores, and each listed movie's percentile
    for each member (one row per movie, one column per member, in the members' order)."""

    positions: np.ndarray
    scores: np.ndarray
    fits: np.ndarray


@dataclass(frozen=True, slots=True)
class GroupPick:
    """A movie for the group, with each member's percentile of it, in the members' order."""

    movie: Movie
    score: float
    fits: tuple[float, ...]

    @property
    def fitted(self) -> tuple[int, ...]:
        """The members (their places in the member order) whom the movie fits."""
        return tuple(n for n, fit in enumerate(self.fits) if fit >= FITS_FROM)

    @property
    def closest(self) -> int | None:
        """The member whose taste the movie is nearest in percentile, if there are members."""
        return int(np.argmax(self.fits)) if self.fits else None


def percentiles(similarity: np.ndarray) -> np.ndarray:
    """Each member's percentile of each movie: ``members x movies`` similarities in, the
    same shape out, in [0, 1]; ties keep catalog order."""
    rows, movies = similarity.shape
    ranks = np.empty((rows, movies), dtype=np.float64)
    order = np.argsort(similarity, axis=1, kind="stable")
    np.put_along_axis(ranks, order, np.arange(movies, dtype=np.float64)[None, :], axis=1)
    scaled: np.ndarray = ranks / max(movies - 1, 1)
    return scaled


def combined(similarity: np.ndarray, weights: GroupWeights) -> np.ndarray:
    """The group's score of every movie by ``weights.strategy`` (see the module docstring):
    a blend of the mean and the lowest of the members' similarities, or percentiles."""
    fair = weights.strategy is GroupStrategy.FAIR
    ordered = np.sort(percentiles(similarity) if fair else similarity.astype(np.float64), axis=0)
    worst = weights.fairness if fair else float(weights.strategy is GroupStrategy.LEAST_MISERY)
    scores: np.ndarray = (1.0 - worst) * ordered.mean(axis=0) + worst * ordered[0]
    return scores


def rank_for_group(
    similarity: np.ndarray,
    excluded: np.ndarray,
    popularity: np.ndarray,
    k: int,
    weights: GroupWeights,
) -> GroupRanking:
    """The ``k`` best movies for the group.

    Args:
        similarity: ``members x movies`` cosine similarities (at least one member).
        excluded: a boolean per movie: ``True`` never comes back.
        popularity: the catalog prior per movie (z-scores; zeros without popularity).
        k: how many movies.
        weights: the strategy and its re-ranking.
    """
    scores = combined(similarity, weights)
    allowed = np.flatnonzero(~excluded)
    count = min(weights.candidates, len(allowed))
    candidates = allowed[_best(scores[allowed], count)]
    blended = _z(scores[candidates]) + weights.popularity * popularity[candidates]
    order = np.argsort(-blended, kind="stable")[:k]
    chosen = candidates[order]
    return GroupRanking(chosen, blended[order], percentiles(similarity)[:, chosen].T)


def group_picks(
    index: MovieIndex,
    tastes: Sequence[Vectors],
    exclude: Collection[int],
    popularity: np.ndarray,
    k: int,
    weights: GroupWeights,
) -> list[GroupPick]:
    """The ``k`` movies of ``index`` best for the members of ``tastes`` (one unit vector
    each, at least one), none of ``exclude``.

    Args:
        index: the catalog.
        tastes: the members' taste vectors; ``GroupPick.fits`` follow their order.
        exclude: movie ids never listed.
        popularity: the catalog prior per position of ``index.movies``.
        k: how many movies.
        weights: the strategy and its re-ranking.
    """
    similarity = index.similarities(np.stack(tastes))
    excluded = np.zeros(len(index), dtype=bool)
    positions = [index.position(movie_id) for movie_id in exclude]
    excluded[[position for position in positions if position is not None]] = True
    ranking = rank_for_group(similarity, excluded, popularity, k, weights)
    return [
        GroupPick(index.movies[position], float(score), tuple(float(f) for f in fits))
        for position, score, fits in zip(
            ranking.positions, ranking.scores, ranking.fits, strict=True
        )
    ]


def _best(scores: np.ndarray, count: int) -> np.ndarray:
    """Positions in ``scores`` of its ``count`` highest, in position order."""
    if count >= len(scores):
        return np.arange(len(scores))
    return np.sort(np.argpartition(-scores, count - 1)[:count])


def _z(values: np.ndarray) -> np.ndarray:
    std = float(values.std()) if len(values) else 0.0
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
