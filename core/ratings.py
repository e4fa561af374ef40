"""Real people's movie ratings as picks: MovieLens ``ratings.csv`` and ``links.csv`` read
into liked movies of a catalog, in time order, for the offline replay
(:mod:`core.evaluation`) and for seeding a new bot's community.

pandas is imported when a table is read, not with this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import CatalogError

if TYPE_CHECKING:
    import pandas as pd

MIN_LIKES = 3
LIKED_RATING = 4.0


@dataclass(frozen=True, slots=True)
class Pick:
    """One liked movie of one user, at a time in seconds."""

    timestamp: float
    user: int
    movie_id: int


def load_picks(
    ratings: Path,
    links: Path,
    catalog_ids: Iterable[int],
    min_rating: float = LIKED_RATING,
    min_likes: int = MIN_LIKES,
) -> list[Pick]:
    """Read MovieLens ``ratings.csv`` and ``links.csv`` into liked picks (see below).

    Raises:
        CatalogError: a file is missing or is not a MovieLens table.
    """
    for path in (ratings, links):
        if not path.is_file():
            raise CatalogError(f"file not found: {path}")
    import pandas as pd  # only the replay reads tables; the bot never does

    try:
        return liked_picks(
            pd.read_csv(ratings), pd.read_csv(links), catalog_ids, min_rating, min_likes
        )
    except (KeyError, ValueError) as error:
        raise CatalogError(f"{ratings} and {links} are not MovieLens tables: {error}") from error


def histories(picks: Iterable[Pick]) -> list[list[int]]:
    """Each user's picked movie ids in the order of ``picks``."""
    by_user: defaultdict[int, list[int]] = defaultdict(list)
    for pick in picks:
        by_user[pick.user].append(pick.movie_id)
    return list(by_user.values())


def liked_picks(
    ratings: pd.DataFrame,
    links: pd.DataFrame,
    catalog_ids: Iterable[int],
    min_rating: float = LIKED_RATING,
    min_likes: int = MIN_LIKES,
) -> list[Pick]:
    """Liked ratings of movies in the catalog, for users with enough of them, by time.

    ``ratings`` has MovieLens columns ``userId, movieId, rating, timestamp``; ``links``
    maps ``movieId`` to the catalog's ``tmdbId``.
    """
    liked = ratings[ratings["rating"] >= min_rating].merge(
        links[["movieId", "tmdbId"]].dropna(), on="movieId"
    )
    liked = liked[liked["tmdbId"].astype("int64").isin(set(catalog_ids))]
    liked = liked.drop_duplicates(["userId", "tmdbId"])
    counts = liked.groupby("userId")["tmdbId"].transform("size")
    liked = liked[counts >= min_likes].sort_values(["timestamp", "userId"], kind="stable")
    columns = zip(
        liked["timestamp"].to_numpy(np.float64),
        liked["userId"].to_numpy(np.int64),
        liked["tmdbId"].to_numpy(np.int64),
        strict=True,
    )
    return [Pick(float(at), int(user), int(movie)) for at, user, movie in columns]
