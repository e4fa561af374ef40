"""What the store holds, held against what the simulated users were told."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core.index import MovieIndex
from core.models import UserRef
from core.stores.redis import RedisProfileStore
from core.taste import TasteSettings, replay_picks
from testing.crowd import Crowd


@dataclass
class Audit:
    """Acknowledged picks missing from the store, picks stored that nobody was told of,
    pick counts above the acknowledged ones, and taste vectors off their replay."""

    users: int = 0
    picks: int = 0
    lost: list[str] = field(default_factory=list)
    unannounced: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    wrong_vectors: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.unannounced or self.doubled or self.wrong_vectors)


async def audit(crowd: Crowd, store: RedisProfileStore, index: MovieIndex) -> Audit:
    """Check every user of ``crowd``: their stored picks are exactly the acknowledged
    ones, in order, their vector is the replay of those picks, and every movie's pick
    count is the number of users told it was picked."""
    report = Audit()
    weight = TasteSettings().ema_weight
    for user, told in crowd.acknowledged.items():
        profile = await store.load(UserRef("telegram", str(user)))
        stored = list(profile.picked) if profile else []
        report.users += 1
        report.picks += len(told)
        report.lost += [f"user {user}: movie {m}" for m in told if m not in stored]
        report.unannounced += [f"user {user}: movie {m}" for m in stored if m not in told]
        if profile is not None and stored == told:
            expected = replay_picks([index.vector(m) for m in told], weight)
            if not np.allclose(profile.vector, expected, atol=1e-5):
                report.wrong_vectors.append(f"user {user}")
    told_counts = crowd.picks()
    movies = sorted(told_counts)
    stored_counts = Counter(dict(zip(movies, await store.pick_counts(movies), strict=True)))
    report.doubled += [
        f"movie {m}: {stored_counts[m]} stored, {told_counts[m]} told"
        for m in movies
        if stored_counts[m] > told_counts[m]
    ]
    return report
