"""Plain, frozen data that crosses the core's boundary."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Movie:
    """One movie of the catalog; everything but the title may be unknown."""

    movie_id: int
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    overview: str = ""
    cast: tuple[str, ...] = ()
    producer: str = ""
    popularity: float | None = None

    @property
    def label(self) -> str:
        """The title with the year, as people name a movie: ``Die Hard (1988)``."""
        return f"{self.title} ({self.year})" if self.year else self.title


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A movie found by a search, with its cosine similarity to the query (in a text
    search, plus a small bonus when the text names its title)."""

    movie: Movie
    score: float


@dataclass(frozen=True, slots=True)
class UserRef:
    """A chat user on one platform; the same person on two platforms is two users."""

    platform: str
    user_id: str

    @property
    def key(self) -> str:
        """``platform:user_id``, the user's name in stores and logs."""
        return f"{self.platform}:{self.user_id}"


class UndoAction(StrEnum):
    """What an undo step takes back; the values are how stores write it."""

    PICK = "pick"
    DISLIKE = "dislike"


@dataclass(frozen=True, slots=True, eq=False)
class UndoStep:
    """What one pick or dislike changed, so that undo can restore it exactly."""

    action: UndoAction
    movie_id: int
    previous_vector: Vectors | None
    previous_last_pick_at: float | None
    was_disliked: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class TasteProfile:
    """A user's taste: one unit vector plus what is needed to exclude, explain and undo.

    ``vector`` is ``None`` until the first pick. ``fingerprint`` names the index the
    vector belongs to; a profile of another index is never used for search.
    """

    fingerprint: str
    vector: Vectors | None = None
    picked: tuple[int, ...] = ()
    disliked: tuple[int, ...] = ()
    last_pick_at: float | None = None
    undo: tuple[UndoStep, ...] = ()

    @property
    def pick_count(self) -> int:
        return len(self.picked)


class ReasonKind(StrEnum):
    """Why a movie is suggested."""

    CLOSE_TO_PICK = "close to a pick"
    PICKED_TOGETHER = "picked together"
    """People who picked one of the user's picks also picked it (``Reason.pick``)."""
    CLOSE_TO_TASTE = "close to the taste"
    POPULAR = "popular"
    CATALOG_CORNER = "a corner of the catalog"
    """One movie per cluster of a catalog without popularity: the cold start."""


@dataclass(frozen=True, slots=True)
class Exploration:
    """The step outside the taste that found a suggestion. ``strategy`` and ``strength``
    are ``None`` where the user did not choose them (the weekly picks)."""

    strategy: str | None = None
    strength: float | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a movie is suggested: what it is close to, and whether exploring found it."""

    kind: ReasonKind
    pick: Movie | None = None
    """The user's pick the movie is closest to, for ``CLOSE_TO_PICK``."""
    exploration: Exploration | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A movie suggested to a user, with the score it was ranked by and why."""

    movie: Movie
    score: float
    reason: Reason


class PickOutcome(StrEnum):
    """What a pick, a "less like this" or an undo did."""

    PICKED = "picked"
    ALREADY_PICKED = "already picked"
    DISLIKED = "disliked"
    ALREADY_DISLIKED = "already disliked"
    UNDID_PICK = "undid pick"
    UNDID_DISLIKE = "undid dislike"
    ALREADY_UNDONE = "already undone"
    """A replayed undo: the first one took the step back."""


@dataclass(frozen=True, slots=True)
class PickResult:
    """The outcome of a pick, dislike or undo, and the movie it was about (``None`` when
    a replayed undo does not know it)."""

    outcome: PickOutcome
    movie: Movie | None

    @property
    def applied(self) -> bool:
        """Whether the user's profile changed."""
        return self.outcome in _CHANGED


_CHANGED = frozenset(
    {PickOutcome.PICKED, PickOutcome.DISLIKED, PickOutcome.UNDID_PICK, PickOutcome.UNDID_DISLIKE}
)


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """What the bot knows about a user, for ``/profile``."""

    pick_count: int
    dislike_count: int
    top_genres: tuple[str, ...]
    last_picks: tuple[Movie, ...]


@dataclass(frozen=True, slots=True)
class Subscription:
    """When a user wants the weekly exploratory picks, in their own time zone."""

    weekday: int
    """0 is Monday, 6 is Sunday."""
    hour: int
    timezone: str = "UTC"
    """An IANA time zone name, such as ``Europe/Berlin``."""


@dataclass(frozen=True, slots=True)
class PushHistory:
    """A user's weekly pushes: the weeks settled (sent, or the user was gone) and the
    movies pushed in the weeks remembered."""

    weeks: frozenset[str] = frozenset()
    movie_ids: frozenset[int] = frozenset()


class Notice(StrEnum):
    """Something a user is told once, the next time they talk to the bot; the values are
    how stores write it."""

    PICKS_STOPPED = "picks_stopped"
    """A weekly push could not reach the user (they blocked the bot or closed their
    direct messages), so they were unsubscribed."""


class Delivery(StrEnum):
    """What became of one message pushed to a user."""

    SENT = "sent"
    GONE = "gone"
    """The user blocked the bot or closed their direct messages: never try again."""
    FAILED = "failed"
    """The platform did not take it, even after retries: try again later."""
