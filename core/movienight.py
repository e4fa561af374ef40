"""Movie night: one list for a whole group, from every member's taste, decided by a vote.

The steps, each an atomic change of the lobby in its store, so that any bot process
may take any of them, before or after a restart:

1. A member opens a lobby in a group chat; others join (2 to 12 members).
2. The opener starts it, or it starts by itself at ``starts_at`` (and is cancelled when
   fewer than two joined). The group's list (:mod:`core.group`) is made from the tastes
   of the members who have picks, leaving out every movie any member picked or marked
   "less like this"; members without picks vote all the same. The list becomes the
   options of the vote. (Someone who joins while the list is being made votes on it
   without being counted in it.)
3. Members vote, one vote each: voting again replaces the vote, and the same vote twice
   changes nothing. The opener closes the vote, or it closes by itself at ``ends_at``.
   The most voted option wins; a tie goes to the option the list ranked higher.
4. Each member may mark the winner watched: a pick.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from core.errors import (
    LobbyFullError,
    LobbyGoneError,
    LobbyStateError,
    NotAMemberError,
    NotTheOpenerError,
    TooFewMembersError,
    UnknownOptionError,
)
from core.group import GroupPick, GroupWeights, group_picks
from core.lobbies import ChatRef, Lobby, LobbyState, Member, NightSettings
from core.models import Movie, PickResult, UserRef
from core.ports import LobbyChange, LobbyStore
from core.profiles import profile_exclusions
from core.ranking import popularity_prior
from core.recommender import Recommender

NAME_CHARS = 64


@dataclass(frozen=True, slots=True)
class Joined:
    """A join: the lobby after it, and whether the member is new (``False``: already in)."""

    lobby: Lobby
    joined: bool


@dataclass(frozen=True, slots=True)
class NightStarted:
    """A started night: its options, the members whose tastes made them (in the order of
    each pick's ``fits``; empty when nobody had picks, and the list is the starter set),
    and the members left out of the list for having no picks yet."""

    lobby: Lobby
    picks: tuple[GroupPick, ...]
    combined: tuple[Member, ...]
    left_out: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class NightCancelled:
    """A lobby that was due to start with too few members."""

    lobby: Lobby


@dataclass(frozen=True, slots=True)
class Voted:
    """A vote: the lobby after it, and whether it changed the member's vote."""

    lobby: Lobby
    changed: bool


@dataclass(frozen=True, slots=True)
class NightDecided:
    """A closed vote and its winner."""

    lobby: Lobby
    winner: Movie


Advanced = NightStarted | NightCancelled | NightDecided


class MovieNights:
    """Lobbies, the group's list and the vote, over the Recommender and a lobby store."""

    def __init__(
        self,
        recommender: Recommender,
        lobbies: LobbyStore,
        settings: NightSettings | None = None,
        weights: GroupWeights | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._recommender = recommender
        self._lobbies = lobbies
        self._settings = settings or NightSettings()
        self._weights = weights or GroupWeights()
        self._clock = clock
        index = recommender.index
        prior = popularity_prior(index.movies)
        self._popularity = np.array([prior.get(movie.movie_id, 0.0) for movie in index.movies])

    @property
    def settings(self) -> NightSettings:
        return self._settings

    async def open(self, chat: ChatRef, opener: Member) -> Lobby:
        """Open a lobby in ``chat`` with ``opener`` as its first member."""
        now = self._clock()
        lobby = Lobby(
            lobby_id=_new_id(),
            chat=chat,
            members=(_cleaned(opener),),
            state=LobbyState.OPEN,
            opened_at=now,
            starts_at=now + self._settings.start_after,
            expires_at=now + self._settings.keep_for,
        )
        await self._lobbies.create(lobby)
        return lobby

    async def join(self, lobby_id: str, chat: ChatRef, member: Member) -> Joined:
        """Add ``member``; joining twice changes nothing.

        Raises:
            LobbyGoneError: no such lobby in ``chat`` (expired, or never was).
            LobbyStateError: the night has started already.
            LobbyFullError: it has ``max_members`` members.
        """
        added: list[bool] = []

        def change(current: Lobby) -> Lobby:
            _expect(current, chat, LobbyState.OPEN)
            added[:] = [not current.has_member(member.user)]
            if not added[0]:
                return current
            if len(current.members) >= self._settings.max_members:
                raise LobbyFullError(self._settings.max_members)
            return replace(current, members=(*current.members, _cleaned(member)))

        lobby = await self._update(lobby_id, change)
        return Joined(lobby, added == [True])

    async def start(self, lobby_id: str, chat: ChatRef, user: UserRef) -> NightStarted:
        """The opener starts the night: the group's list becomes the vote.

        Raises:
            LobbyGoneError: no such lobby in ``chat``.
            NotTheOpenerError: ``user`` did not open it.
            LobbyStateError: it has started already.
            TooFewMembersError: fewer than ``min_members`` joined.
        """
        lobby = await self._lobby(lobby_id, chat)
        if user != lobby.opener:
            raise NotTheOpenerError()
        _expect(lobby, chat, LobbyState.OPEN)
        if len(lobby.members) < self._settings.min_members:
            raise TooFewMembersError(len(lobby.members), self._settings.min_members)
        return await self._start(lobby)

    async def vote(self, lobby_id: str, chat: ChatRef, user: UserRef, option: int | None) -> Voted:
        """A member's vote for ``option`` (an index of ``Lobby.options``), or ``None`` to
        take it back.

        Raises:
            LobbyGoneError: no such lobby in ``chat``.
            LobbyStateError: the vote is not open.
            NotAMemberError: ``user`` did not join.
            UnknownOptionError: no option has this index.
        """
        previous: list[int | None] = []

        def change(current: Lobby) -> Lobby:
            _expect(current, chat, LobbyState.VOTING)
            if not current.has_member(user):
                raise NotAMemberError()
            if option is not None and not 0 <= option < len(current.options):
                raise UnknownOptionError(option)
            previous[:] = [current.votes.get(user.user_id)]
            votes = {key: value for key, value in current.votes.items() if key != user.user_id}
            if option is not None:
                votes[user.user_id] = option
            return replace(current, votes=votes)

        lobby = await self._update(lobby_id, change)
        return Voted(lobby, previous != [option])

    async def vote_in_poll(
        self, platform: str, poll_id: str, user: UserRef, option: int | None
    ) -> Voted:
        """A vote given in the platform's own poll ``poll_id`` (see :meth:`vote`)."""
        lobby = await self._lobbies.find_poll(platform, poll_id)
        if lobby is None:
            raise LobbyGoneError(poll_id)
        return await self.vote(lobby.lobby_id, lobby.chat, user, option)

    async def close(self, lobby_id: str, chat: ChatRef, user: UserRef) -> NightDecided:
        """The opener closes the vote: the winner is decided.

        Raises:
            LobbyGoneError: no such lobby in ``chat``.
            NotTheOpenerError: ``user`` did not open it.
            LobbyStateError: the vote is not open.
        """
        lobby = await self._lobby(lobby_id, chat)
        if user != lobby.opener:
            raise NotTheOpenerError()
        return await self._close(lobby)

    async def watched(
        self, lobby_id: str, chat: ChatRef, user: UserRef, idempotency_key: str | None = None
    ) -> PickResult:
        """A member saw the winner: it becomes one of their picks (once).

        Raises:
            LobbyGoneError: no such lobby in ``chat``.
            LobbyStateError: the vote has not been decided.
            NotAMemberError: ``user`` did not join.
            UnknownMovieError: the winner left the catalog.
        """
        lobby = await self._lobby(lobby_id, chat)
        _expect(lobby, chat, LobbyState.DECIDED)
        if not lobby.has_member(user):
            raise NotAMemberError()
        assert lobby.winner is not None  # every decided night has one
        return await self._recommender.pick(user, lobby.winner, idempotency_key)

    async def attach(
        self,
        lobby_id: str,
        *,
        lobby_message: str | None = None,
        vote_message: str | None = None,
        poll_id: str | None = None,
    ) -> None:
        """Remember the platform's ids of what the bot sent for the lobby (the ones given)."""

        def change(current: Lobby) -> Lobby:
            return replace(
                current,
                lobby_message=lobby_message or current.lobby_message,
                vote_message=vote_message or current.vote_message,
                poll_id=poll_id or current.poll_id,
            )

        await self._update(lobby_id, change)

    async def advance_due(self, platform: str) -> list[Advanced]:
        """Move on every lobby of ``platform`` past its deadline: start it (or cancel it,
        with too few members), or close its vote. A lobby that another process moved
        first is skipped."""
        advanced: list[Advanced] = []
        for lobby in await self._lobbies.due(platform, self._clock()):
            try:
                if lobby.state is LobbyState.OPEN:
                    advanced.append(await self._start_or_cancel(lobby))
                else:
                    advanced.append(await self._close(lobby))
            except (LobbyGoneError, LobbyStateError):
                continue
        return advanced

    async def _start_or_cancel(self, lobby: Lobby) -> NightStarted | NightCancelled:
        if len(lobby.members) >= self._settings.min_members:
            return await self._start(lobby)

        def cancel(current: Lobby) -> Lobby:
            _expect(current, lobby.chat, LobbyState.OPEN)
            return replace(current, state=LobbyState.CANCELLED)

        return NightCancelled(await self._update(lobby.lobby_id, cancel))

    async def _start(self, lobby: Lobby) -> NightStarted:
        picks, combined, left_out = await self._group_list(lobby.members)
        options = tuple(pick.movie.movie_id for pick in picks)
        ends_at = self._clock() + self._settings.vote_for

        def begin(current: Lobby) -> Lobby:
            _expect(current, lobby.chat, LobbyState.OPEN)
            return replace(current, state=LobbyState.VOTING, ends_at=ends_at, options=options)

        started = await self._update(lobby.lobby_id, begin)
        return NightStarted(started, picks, combined, left_out)

    async def _close(self, lobby: Lobby) -> NightDecided:
        def decide(current: Lobby) -> Lobby:
            _expect(current, lobby.chat, LobbyState.VOTING)
            return replace(current, state=LobbyState.DECIDED, winner=_winner(current))

        decided = await self._update(lobby.lobby_id, decide)
        assert decided.winner is not None
        movie = self._recommender.index.movie(decided.winner)
        return NightDecided(decided, movie or Movie(decided.winner, f"#{decided.winner}"))

    async def _group_list(
        self, members: tuple[Member, ...]
    ) -> tuple[tuple[GroupPick, ...], tuple[Member, ...], tuple[Member, ...]]:
        """The list for the members with picks, those members, and those without picks."""
        profiles = await self._recommender.profiles([member.user for member in members])
        exclude = {movie_id for profile in profiles for movie_id in profile_exclusions(profile)}
        tasted = [
            (member, profile.vector)
            for member, profile in zip(members, profiles, strict=True)
            if profile.vector is not None
        ]
        combined = tuple(member for member, _ in tasted)
        left_out = tuple(member for member in members if member not in combined)
        size = self._settings.list_size
        if not tasted:
            starters = self._recommender.starters.recommendations(size, exclude)
            return tuple(GroupPick(r.movie, r.score, ()) for r in starters), (), left_out
        tastes = [vector for _, vector in tasted]
        index = self._recommender.index
        found = await asyncio.to_thread(
            group_picks, index, tastes, exclude, self._popularity, size, self._weights
        )
        return tuple(found), combined, left_out

    async def _lobby(self, lobby_id: str, chat: ChatRef) -> Lobby:
        lobby = await self._lobbies.load(lobby_id)
        if lobby is None or lobby.chat != chat:
            raise LobbyGoneError(lobby_id)
        return lobby

    async def _update(self, lobby_id: str, change: LobbyChange) -> Lobby:
        lobby = await self._lobbies.update(lobby_id, change)
        if lobby is None:
            raise LobbyGoneError(lobby_id)
        return lobby


def _expect(lobby: Lobby, chat: ChatRef, state: LobbyState) -> None:
    if lobby.chat != chat:
        raise LobbyGoneError(lobby.lobby_id)
    if lobby.state is not state:
        raise LobbyStateError(lobby.state)


def _winner(lobby: Lobby) -> int:
    """The most voted option's movie; a tie goes to the option listed first."""
    counts = lobby.counts()
    best = max(range(len(counts)), key=lambda option: (counts[option], -option))
    return lobby.options[best]


def _cleaned(member: Member) -> Member:
    """The member with their name on one line, cut to ``NAME_CHARS``; their user id when
    nothing is left."""
    name = " ".join(member.name.split())[:NAME_CHARS]
    return replace(member, name=name or member.user.user_id)


def _new_id() -> str:
    """A random lobby id of up to 10 base-36 digits."""
    number, digits = secrets.randbits(48), "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if number == 0:
            return text
