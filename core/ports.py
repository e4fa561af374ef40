"""The small interfaces the core depends on; adapters and stores implement them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.models import Delivery, Recommendation, Subscription, TasteProfile, UserRef, Vectors


class Embedder(Protocol):
    """Turns text into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """A stable identifier of the model, e.g. ``local:all-MiniLM-L6-v2``."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector this embedder returns."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed catalog texts.

        Args:
            texts: the documents, one per movie.

        Returns:
            An array of shape ``(len(texts), dim)``, each row of unit length.
        """
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query into a unit vector of shape ``(dim,)``."""
        ...


ProfileChange = Callable[[TasteProfile | None], TasteProfile | None]
"""Computes a user's new profile from the stored one; ``None`` means "change nothing"."""


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """What an update left in the store, and whether it changed anything."""

    profile: TasteProfile | None
    applied: bool


class ProfileStore(Protocol):
    """Where taste profiles live. Every method is safe to call from many tasks at once."""

    async def load(self, user: UserRef) -> TasteProfile | None:
        """The user's profile, or ``None`` if the store holds nothing for them.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None = None
    ) -> StoredProfile:
        """Atomically replace the user's profile by ``change(current)``.

        ``change`` may run more than once when updates of one user race; it must be a
        pure function of its argument. Movies added to or removed from ``picked``
        move the global pick counts by one in the same step. An ``idempotency_key``
        seen before for this user makes the call a no-op that reports the current
        profile with ``applied=False``. If ``change`` raises, nothing is stored.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def forget(self, user: UserRef) -> None:
        """Delete everything stored about the user (subscription included), in one step;
        safe to repeat."""
        ...

    async def subscription(self, user: UserRef) -> Subscription | None:
        """When the user gets the weekly picks, or ``None`` if they are not subscribed."""
        ...

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        """Subscribe the user at this slot, or unsubscribe them with ``None``."""
        ...

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        """How many users currently have each movie among their picks, in input order."""
        ...


class Notifier(Protocol):
    """Sends the weekly picks to the users of one chat platform."""

    @property
    def platform(self) -> str:
        """The platform of the users it reaches, as in ``UserRef.platform``."""
        ...

    async def send_picks(self, user: UserRef, picks: Sequence[Recommendation]) -> Delivery:
        """Send ``picks`` to ``user`` with pick and less-like-this buttons.

        Returns:
            ``SENT``; ``GONE`` when the user can no longer be reached (blocked the bot,
            closed their direct messages); ``FAILED`` when the platform failed even
            after its own retries.
        """
        ...
