"""The small interfaces the core depends on; adapters and stores implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.errors import StoreUnavailableError
from core.lobbies import Lobby
from core.models import (
    Delivery,
    Notice,
    PushHistory,
    Recommendation,
    ShownList,
    Subscription,
    TasteProfile,
    UserRef,
    Vectors,
)


class Embedder(Protocol):
    """Turns text into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """A stable identifier of the model, e.g. ``local:all-MiniLM-L6-v2``."""
        ...

    @property
    def dim(self) -> int | None:
        """The length of every vector this embedder returns; ``None`` while unknown (a
        remote model's length may be learnt from its first answer)."""
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

    async def load_many(self, users: Sequence[UserRef]) -> list[TasteProfile | None]:
        """The profiles of many users, in input order, in few round trips; a profile
        that cannot be read is logged and comes back as ``None``.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def forget(self, user: UserRef) -> None:
        """Delete everything stored about the user (subscription and push history
        included), in one step; safe to repeat."""
        ...

    async def forget_inactive(self, before: float) -> int:
        """Forget every user whose profile last changed before ``before`` (Unix time),
        as ``forget`` does; returns how many."""
        ...

    async def subscription(self, user: UserRef) -> Subscription | None:
        """When the user gets the weekly picks, or ``None`` if they are not subscribed."""
        ...

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        """Subscribe the user at this slot, or unsubscribe them with ``None``."""
        ...

    def subscribers(self) -> AsyncIterator[tuple[UserRef, Subscription]]:
        """Every subscribed user with their slot (a user may come twice if the set
        changes during the walk).

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        """How many users currently have each movie among their picks, in input order."""
        ...

    async def co_picks(self, movie_ids: Sequence[int]) -> list[dict[int, int]]:
        """Each movie's strongest co-pick neighbours with their counts, in input order
        (see :mod:`core.community`; the store moves them as profiles change)."""
        ...

    async def seed_community(self, source: str, histories: Sequence[Sequence[int]]) -> bool:
        """Add anonymous pick histories to the pick and co-pick counts, once per
        ``source`` (a digest of where they came from); ``False`` when it was added before.
        No profile is created, and no ``forget`` takes them back."""
        ...

    async def language(self, user: UserRef) -> str | None:
        """The language the user speaks with the bot (a code such as ``ru``), or ``None``
        when none is stored.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def set_language(self, user: UserRef, language: str | None) -> None:
        """Store the user's language, or drop it with ``None`` (``forget`` drops it too)."""
        ...

    async def add_notice(self, user: UserRef, notice: Notice) -> None:
        """Keep ``notice`` for the user until :meth:`take_notices` (``forget`` drops it)."""
        ...

    async def take_notices(self, user: UserRef) -> frozenset[Notice]:
        """The user's kept notices, removed in the same step, so each is given once.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...


class ListStore(Protocol):
    """The ranked lists users were shown, each kept a while under an id of the user's,
    so that "more" pages through the same list. ``ProfileStore.forget`` forgets them."""

    async def save(self, user: UserRef, list_id: int, shown: ShownList) -> None:
        """Keep ``shown`` as the user's list ``list_id`` (ids grow with time: a user's
        oldest lists are dropped first).

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def load(self, user: UserRef, list_id: int) -> ShownList | None:
        """The user's list ``list_id``, or ``None`` when it is no longer kept.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...


LobbyChange = Callable[[Lobby], Lobby]
"""Computes a lobby's next state from the stored one; returning it unchanged writes nothing.
It may raise to refuse the change (nothing is written)."""


class LobbyStore(Protocol):
    """Where movie nights live until they expire. Safe to call from many tasks at once."""

    async def create(self, lobby: Lobby) -> None:
        """Store a new lobby, kept until its ``expires_at``.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def load(self, lobby_id: str) -> Lobby | None:
        """The lobby, or ``None`` when it expired or never was.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def update(self, lobby_id: str, change: LobbyChange) -> Lobby | None:
        """Atomically replace the lobby by ``change(current)``; ``None`` (and no call of
        ``change``) when there is no such lobby. ``change`` may run more than once when
        updates race; it must be a pure function of its argument.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...

    async def find_poll(self, platform: str, poll_id: str) -> Lobby | None:
        """The lobby whose ``poll_id`` on ``platform`` this is, if it has not expired."""
        ...

    async def due(self, platform: str, now: float) -> list[Lobby]:
        """The lobbies of ``platform`` whose ``deadline`` is ``now`` or earlier.

        Raises:
            StoreUnavailableError: the store cannot be reached in time.
        """
        ...


class Telemetry(Protocol):
    """Where the core reports what operators watch."""

    def timed(self, stage: str, seconds: float) -> None:
        """``seconds`` spent in ``stage``: ``embed`` (a query) or ``index`` (a search)."""
        ...

    def picked(self, platform: str) -> None:
        """A pick of a user of ``platform`` changed their taste."""
        ...


class Notifier(Protocol):
    """Sends the weekly picks to the users of one chat platform."""

    @property
    def platform(self) -> str:
        """The platform of the users it reaches, as in ``UserRef.platform``."""
        ...

    async def send_picks(
        self, user: UserRef, picks: Sequence[Recommendation], key: str
    ) -> Delivery:
        """Send ``picks`` to ``user`` with pick and less-like-this buttons; ``key`` is the
        same for every try of one push, so a platform that can (Discord's nonce) shows a
        retried send once.

        Returns:
            ``SENT``; ``GONE`` when the user can no longer be reached (blocked the bot,
            closed their direct messages); ``FAILED`` when the platform failed even
            after its own retries.
        """
        ...


class PushLedger(Protocol):
    """Which weekly pushes went to whom, and which bot process may send them now.

    Weeks are ISO weeks (``2026-W48``) of the user's slot, so a user gets at most one
    push per week whatever the number of processes.
    """

    async def claim(self, user: UserRef, week: str, holder: str, stale_after: float) -> str | None:
        """Take the right to send ``week``'s push to ``user`` for ``holder``.

        A claim records its holder and time. One that was never settled is taken over
        once it is ``stale_after`` seconds old: its holder is gone, or failed to settle.

        Returns:
            The claim's token, which ``settle`` needs; ``None`` when the push is settled
            or claimed by a holder that may still be sending it.
        """
        ...

    async def settle(
        self, user: UserRef, week: str, token: str, delivery: Delivery, movie_ids: Sequence[int]
    ) -> None:
        """Record the outcome of the claim ``token``: ``SENT`` remembers ``movie_ids`` so
        later pushes leave them out; ``GONE`` keeps the claim; ``FAILED`` gives it back,
        so that a later run tries again. Nothing is written when the claim is no longer
        there (the user asked to be forgotten) or was taken over."""
        ...

    async def history(self, users: Sequence[UserRef]) -> list[PushHistory]:
        """Each user's claimed weeks and recently pushed movies, in input order."""
        ...

    async def acquire_lease(self, holder: str, seconds: float) -> bool:
        """Take, or extend, the lease on sending pushes for ``seconds``; ``False`` when
        another holder has it."""
        ...

    async def release_lease(self, holder: str) -> None:
        """Give the lease up, if ``holder`` has it."""
        ...


class Backend(Protocol):
    """Where profiles and push records live, as the running program opens and closes them."""

    @property
    def store(self) -> ProfileStore:
        """The profile store."""
        ...

    @property
    def push_ledger(self) -> PushLedger:
        """The ledger of weekly pushes, beside the profiles."""
        ...

    @property
    def lists(self) -> ListStore:
        """The lists users were shown, beside the profiles."""
        ...

    async def readiness(self) -> StoreUnavailableError | None:
        """``None`` when the backend can serve, else why it cannot."""
        ...

    async def close(self) -> None:
        """Close every connection the backend holds."""
        ...
