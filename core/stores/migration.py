"""Moving stored profiles to a rebuilt index, so that nobody's taste is lost.

A profile of another index is rewritten for the current one. If its vectors came from
the same embedder, they still live in the same space and stay as they are; picks and
dislikes of movies that left the catalog are dropped. If they came from another
embedder, or the store does not know which (an index the store never recorded), the
vector is rebuilt by replaying the picks that are still in the catalog, and the undo
history goes, since its vectors belong to the old space.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Protocol

from core.index import MovieIndex
from core.models import TasteProfile, UndoStep, UserRef
from core.ports import ProfileStore
from core.profiles import fits, in_catalog, rebuilt
from core.taste import TasteSettings


class ReindexableStore(ProfileStore, Protocol):
    """A store that can list its users and remember which embedder made an index."""

    def users(self) -> AsyncIterator[UserRef]:
        """Every user with a stored profile (possibly more than once)."""
        ...

    async def remember_embedder(self, fingerprint: str, embedder: str) -> None:
        """Record which embedder made the vectors of the index ``fingerprint``."""
        ...

    async def known_embedders(self) -> dict[str, str]:
        """Every recorded index fingerprint with the embedder that made its vectors."""
        ...


class Migration(Enum):
    """What reindexing did to one profile."""

    UNCHANGED = "unchanged"
    KEPT_VECTOR = "kept vector"
    REBUILT_VECTOR = "rebuilt vector"


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """How many profiles reindexing looked at, and what it did to them."""

    unchanged: int
    kept_vector: int
    rebuilt_vector: int

    @property
    def profiles(self) -> int:
        return self.unchanged + self.kept_vector + self.rebuilt_vector


async def reindex_profiles(
    store: ReindexableStore, index: MovieIndex, ema_weight: float | None = None
) -> ReindexReport:
    """Rewrite every stored profile that does not fit ``index`` (see the module docstring).

    Each profile is rewritten with :meth:`ProfileStore.update`, so picks made meanwhile are
    neither lost nor counted twice, and running it again changes nothing. A user that the
    store lists twice is counted twice.

    Args:
        store: where the profiles are.
        index: the index the bot runs with now; recorded with its embedder.
        ema_weight: the EMA weight of a replayed pick; the Recommender's default if ``None``.
    """
    weight = TasteSettings().ema_weight if ema_weight is None else ema_weight
    await store.remember_embedder(index.fingerprint, index.manifest.embedder)
    embedders = await store.known_embedders()
    outcomes: Counter[Migration] = Counter()
    async for user in store.users():
        outcomes[await _reindex_one(store, user, index, embedders, weight)] += 1
    return ReindexReport(*(outcomes[kind] for kind in Migration))


async def _reindex_one(
    store: ProfileStore,
    user: UserRef,
    index: MovieIndex,
    embedders: Mapping[str, str],
    weight: float,
) -> Migration:
    outcome = Migration.UNCHANGED

    def change(stored: TasteProfile | None) -> TasteProfile | None:
        nonlocal outcome
        same_embedder = stored is not None and (
            embedders.get(stored.fingerprint) == index.manifest.embedder
        )
        new = migrated(stored, index, same_embedder, weight)
        outcome = Migration.UNCHANGED if new is None else _kind(new, stored, same_embedder)
        return new

    await store.update(user, change)
    return outcome


def migrated(
    profile: TasteProfile | None, index: MovieIndex, same_embedder: bool, ema_weight: float
) -> TasteProfile | None:
    """The profile moved to ``index``, or ``None`` when it already fits it.

    Args:
        profile: the stored profile.
        index: the current index.
        same_embedder: whether the profile's vectors come from the index's embedder.
        ema_weight: the EMA weight of a replayed pick.
    """
    if profile is None or profile.fingerprint == index.fingerprint:
        return None
    if not same_embedder or not fits(profile, index.dim):
        return rebuilt(profile, index, ema_weight)
    return replace(
        profile,
        fingerprint=index.fingerprint,
        picked=in_catalog(profile.picked, index),
        disliked=in_catalog(profile.disliked, index),
        undo=_in_catalog_undo(profile.undo, index),
    )


def _kind(new: TasteProfile, old: TasteProfile | None, same_embedder: bool) -> Migration:
    kept = same_embedder and old is not None and new.vector is old.vector
    return Migration.KEPT_VECTOR if kept else Migration.REBUILT_VECTOR


def _in_catalog_undo(undo: Sequence[UndoStep], index: MovieIndex) -> tuple[UndoStep, ...]:
    """The undo steps newer than the last one whose movie left the catalog."""
    kept: list[UndoStep] = []
    for step in undo:
        kept = [*kept, step] if index.movie(step.movie_id) is not None else []
    return tuple(kept)
