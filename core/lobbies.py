"""A movie night's lobby: who joined it in which group chat, how far it got, the vote.

A lobby is opened in a group chat, gathers members, then starts: the group's list
becomes the options of a vote, and closing the vote names the winner. Every change
makes a new ``Lobby``; stores keep them (see :class:`core.ports.LobbyStore`) until
``expires_at``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.models import UserRef


@dataclass(frozen=True, slots=True)
class NightSettings:
    """How long a lobby waits before it starts by itself, how long the vote lasts, how
    long a lobby is kept (the winner can be marked watched until then), in seconds; how
    many movies are voted on, and how many members a night has."""

    start_after: float = 600.0
    vote_for: float = 600.0
    keep_for: float = 2 * 86_400.0
    list_size: int = 5
    min_members: int = 2
    max_members: int = 12


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A group chat on one platform: a Telegram group, a Discord channel."""

    platform: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Member:
    """Someone who joined, with the name the platform shows for them (untrusted text) and
    the language the bot spoke with them when they joined (a code such as ``ru``; ``None``
    when unknown)."""

    user: UserRef
    name: str
    language: str | None = None


class LobbyState(StrEnum):
    """How far a movie night got; the values are how stores write it."""

    OPEN = "open"
    """Gathering members."""
    VOTING = "voting"
    """Started: the group's list is being voted on."""
    DECIDED = "decided"
    """The vote is closed and has a winner."""
    CANCELLED = "cancelled"
    """It started by itself with too few members."""


@dataclass(frozen=True, slots=True)
class Lobby:
    """One movie night. The first member opened it. ``votes`` maps a member's user id to
    the index of their option in ``options`` (movie ids); it is never changed in place.
    ``lobby_message``, ``vote_message`` and ``poll_id`` are the platform's ids of what the
    bot sent, so that it can edit or close them later, from any process."""

    lobby_id: str
    chat: ChatRef
    members: tuple[Member, ...]
    state: LobbyState
    opened_at: float
    starts_at: float
    expires_at: float
    ends_at: float | None = None
    options: tuple[int, ...] = ()
    votes: Mapping[str, int] = field(default_factory=dict)
    winner: int | None = None
    lobby_message: str | None = None
    vote_message: str | None = None
    poll_id: str | None = None

    @property
    def opener(self) -> UserRef:
        return self.members[0].user

    @property
    def deadline(self) -> float | None:
        """When the lobby moves on by itself: it starts, or its vote closes; ``None`` once
        it is over."""
        if self.state is LobbyState.OPEN:
            return self.starts_at
        if self.state is LobbyState.VOTING:
            return self.ends_at
        return None

    def has_member(self, user: UserRef) -> bool:
        return any(member.user == user for member in self.members)

    def counts(self) -> tuple[int, ...]:
        """The votes of each option, in option order."""
        tally = Counter(self.votes.values())
        return tuple(tally[option] for option in range(len(self.options)))
