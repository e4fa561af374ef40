"""How candidates found by taste similarity are ranked: a blend with popularity priors.

``score = cosine + popularity * z(log(1 + catalog popularity))
                 + bot_picks * z(log(1 + picks by the bot's users))``

Both priors are z-scores, so the weights are in units of standard deviations. A
catalog without popularity (Cohere's) and a bot without users fall back to cosine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.models import Movie, SearchHit


@dataclass(frozen=True, slots=True)
class RankingWeights:
    """Weights of the priors and how many nearest movies are re-ranked."""

    popularity: float = 0.2
    bot_picks: float = 0.05
    candidates: int = 100


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


def blend(
    hits: Sequence[SearchHit],
    prior: Mapping[int, float],
    pick_counts: Sequence[int],
    weights: RankingWeights,
) -> list[tuple[SearchHit, float]]:
    """Re-rank ``hits`` by the blended score, best first."""
    similarity = np.array([hit.score for hit in hits], dtype=np.float64)
    popularity = np.array([prior.get(hit.movie.movie_id, 0.0) for hit in hits])
    scores = similarity + weights.popularity * popularity
    scores += weights.bot_picks * _z(np.log1p(np.asarray(pick_counts, dtype=np.float64)))
    order = np.argsort(-scores, kind="stable")
    return [(hits[i], float(scores[i])) for i in order]


def _z(values: np.ndarray) -> np.ndarray:
    std = float(values.std()) if len(values) else 0.0
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)
