"""How candidates are ranked for a user: the taste, blended with popularity priors and
with what the bot's community picked together.

The candidates are the ``candidates`` movies nearest the taste, joined by the co-pick
neighbours of the user's ``recent_picks`` latest picks (:mod:`core.community`), so that
the community can bring in movies the embedding does not place near the taste. Each is
scored by

``z(cosine) + popularity * z(log(1 + catalog popularity))
            + bot_picks * z(log(1 + picks by the bot's users))
            + community * z(co-pick score)``

Every term is a z-score, so the weights are in standard deviations and do not depend
on how spread out one embedding model's similarities are. The catalog prior is
standardized over the whole catalog, the other terms over the candidates. A catalog
without popularity (Cohere's) and a bot without users fall back to taste alone, and a
user whose picks nobody else shares gets their taste's nearest movies.

The defaults were chosen by grid search on half of the MovieLens users and reported on
all of them (docs/evaluation.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.community import CommunityScores
from core.index import MovieIndex
from core.models import (
    Exploration,
    Movie,
    Reason,
    ReasonKind,
    Recommendation,
    SearchHit,
    TasteProfile,
    Vectors,
)

EXPLAINED_BY_LAST_PICKS = 20


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """Weights of the priors and how many nearest movies are re-ranked."""

    popularity: float = 2.0
    bot_picks: float = 1.0
    community: float = 1.0
    candidates: int = 1000
    recent_picks: int = 10


def popularity_prior(movies: Sequence[Movie]) -> dict[int, float]:
    """z-scores of ``log(1 + popularity)`` per movie id; empty when no movie has one.

    Movies without a popularity get 0, the catalog average.
    """
    known = {m.movie_id: math.log1p(max(m.popularity, 0.0)) for m in movies if m.popularity}
    if len(known) < 2:
        return {}
    values = np.fromiter(known.values(), dtype=np.float64)
    mean, std = float(values.mean()), float(values.std()) or 1.0
    return {movie_id: (value - mean) / std for movie_id, value in known.items()}


def blend_terms(
    similarity: np.ndarray,
    popularity: np.ndarray,
    pick_counts: np.ndarray,
    community: np.ndarray,
    weights: RankingWeights,
) -> np.ndarray:
    """The weighted terms of each candidate's score, one row per term (taste, catalog
    popularity, bot picks, community), from aligned arrays; their sum is the score."""
    return np.stack(
        [
            _z(similarity),
            weights.popularity * popularity,
            weights.bot_picks * _z(np.log1p(pick_counts)),
            weights.community * _z(community),
        ]
    )


def blend_scores(
    similarity: np.ndarray,
    popularity: np.ndarray,
    pick_counts: np.ndarray,
    weights: RankingWeights,
    community: np.ndarray | None = None,
) -> np.ndarray:
    """The blended score of each candidate (see the module docstring)."""
    shared = np.zeros_like(similarity) if community is None else community
    scores: np.ndarray = blend_terms(similarity, popularity, pick_counts, shared, weights).sum(0)
    return scores


COMMUNITY_TERM = 3


class Ranker:
    """Ranks candidates of one index for a user by the blend, each with the reason it is
    suggested: the recent pick it is closest to."""

    def __init__(self, index: MovieIndex, weights: RankingWeights) -> None:
        self._index = index
        self.weights = weights
        self._prior = popularity_prior(index.movies)
        self._prior_by_position = np.array([self._prior.get(m.movie_id, 0.0) for m in index.movies])

    @property
    def candidates(self) -> int:
        """How many movies nearest the taste are re-ranked."""
        return self.weights.candidates

    def ranked(
        self,
        profile: TasteProfile,
        hits: Sequence[SearchHit],
        pick_counts: Mapping[int, int],
        k: int,
        exploration: Exploration | None = None,
        community: CommunityScores | None = None,
    ) -> list[Recommendation]:
        """The ``k`` best of ``hits``, given how many users picked each movie and, when
        known, the community's co-pick scores for this user."""
        ids = [hit.movie.movie_id for hit in hits]
        shared = community.scores if community else {}
        terms = blend_terms(
            np.array([hit.score for hit in hits], dtype=np.float64),
            np.array([self._prior.get(movie_id, 0.0) for movie_id in ids]),
            np.array([pick_counts.get(movie_id, 0) for movie_id in ids], dtype=np.float64),
            np.array([shared.get(movie_id, 0.0) for movie_id in ids]),
            self.weights,
        )
        scores = terms.sum(axis=0)
        best = np.argsort(-scores, kind="stable")[:k]
        carried = self._carried(scores, terms[COMMUNITY_TERM], best, k) if community else set()
        return [
            Recommendation(
                hits[i].movie,
                float(scores[i]),
                self._community_reason(hits[i].movie, community, exploration)
                if i in carried
                else self.reason(profile, hits[i].movie, exploration),
            )
            for i in best
        ]

    @staticmethod
    def _carried(scores: np.ndarray, community: np.ndarray, best: np.ndarray, k: int) -> set[int]:
        """The candidates among ``best`` that the community term carried: without it, they
        would not be in the top ``k``."""
        without = set(np.argsort(-(scores - community), kind="stable")[:k].tolist())
        return {int(i) for i in best if int(i) not in without}

    def _community_reason(
        self, movie: Movie, community: CommunityScores | None, exploration: Exploration | None
    ) -> Reason:
        """ "Picked together", naming the recent pick that adds most to its co-pick score."""
        source = community.strongest_source.get(movie.movie_id) if community else None
        picked = self._index.movie(source) if source is not None else None
        if picked is None:
            return Reason(ReasonKind.CLOSE_TO_TASTE, exploration=exploration)
        return Reason(ReasonKind.PICKED_TOGETHER, picked, exploration)

    def ranked_positions(
        self,
        profile: TasteProfile,
        similarity: np.ndarray,
        positions: np.ndarray,
        pick_counts: np.ndarray,
        k: int,
        exploration: Exploration | None = None,
    ) -> list[Recommendation]:
        """The ``k`` best candidates given by their catalog ``positions`` and
        ``similarity`` to the query; ``pick_counts`` covers the whole catalog."""
        prior = self._prior_by_position[positions]
        counts = pick_counts[positions]
        scores = blend_scores(similarity.astype(np.float64), prior, counts, self.weights)
        best = np.argsort(-scores, kind="stable")[:k]
        movies = [self._index.movies[positions[i]] for i in best]
        return [
            Recommendation(movie, float(scores[i]), self.reason(profile, movie, exploration))
            for i, movie in zip(best, movies, strict=True)
        ]

    def reason(
        self, profile: TasteProfile, movie: Movie, exploration: Exploration | None = None
    ) -> Reason:
        """Why ``movie`` is suggested: the recent pick it is closest to, if any."""
        recent = profile.picked[-EXPLAINED_BY_LAST_PICKS:]
        if not recent:
            return Reason(ReasonKind.CLOSE_TO_TASTE, exploration=exploration)
        target = self._index.vector(movie.movie_id)
        similarity = self._index.vectors(recent) @ target
        closest = self._index.movie(recent[int(np.argmax(similarity))])
        kind = ReasonKind.CLOSE_TO_TASTE if closest is None else ReasonKind.CLOSE_TO_PICK
        return Reason(kind, closest, exploration)


def _z(values: np.ndarray) -> np.ndarray:
    std = float(values.std()) if len(values) else 0.0
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)


def co_picked_hits(
    index: MovieIndex, vector: Vectors, neighbours: Sequence[Mapping[int, int]], known: set[int]
) -> list[SearchHit]:
    """The co-pick neighbours not among ``known``, with their similarity to ``vector``:
    candidates the community term may carry that the vector search did not find."""
    found = [
        movie
        for movie_id in {other for counts in neighbours for other in counts} - known
        if (movie := index.movie(movie_id)) is not None
    ]
    if not found:
        return []
    vectors = index.vectors([movie.movie_id for movie in found])
    return [
        SearchHit(movie, float(score)) for movie, score in zip(found, vectors @ vector, strict=True)
    ]
