"""Test doubles for the core's ports: an embedder that embeds nothing, and a notifier
that records what it is asked to send."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.models import Delivery, Recommendation, UserRef, Vectors


class FixedEmbedder:
    """Stands in for the model where nothing embeds text (picks, the push)."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        raise NotImplementedError

    def embed_query(self, text: str) -> Vectors:
        raise NotImplementedError


@dataclass
class RecordingNotifier:
    """Records every push; answers GONE or FAILED for chosen users."""

    platform: str = "telegram"
    gone: set[UserRef] = field(default_factory=set)
    failing: set[UserRef] = field(default_factory=set)
    stop_after: int | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[tuple[UserRef, tuple[int, ...]]] = field(default_factory=list)

    async def send_picks(
        self, user: UserRef, picks: Sequence[Recommendation], key: str
    ) -> Delivery:
        await asyncio.sleep(0)
        if user in self.gone:
            return Delivery.GONE
        if user in self.failing:
            return Delivery.FAILED
        self.sent.append((user, tuple(pick.movie.movie_id for pick in picks)))
        if self.stop_after is not None and len(self.sent) >= self.stop_after:
            self.stop.set()
        return Delivery.SENT

    def users(self) -> Counter[UserRef]:
        return Counter(user for user, _ in self.sent)
