"""A LobbyStore in process memory, for the demo and for tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.lobbies import Lobby
from core.ports import LobbyChange


class MemoryLobbyStore:
    """Keeps lobbies in a dictionary and drops each once ``clock`` passes its expiry.

    Every method runs without awaiting in between, so an update is atomic on the loop.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lobbies: dict[str, Lobby] = {}
        self._polls: dict[tuple[str, str], str] = {}
        self._clock = clock

    async def create(self, lobby: Lobby) -> None:
        self._keep(lobby)

    async def load(self, lobby_id: str) -> Lobby | None:
        return self._live(lobby_id)

    async def update(self, lobby_id: str, change: LobbyChange) -> Lobby | None:
        current = self._live(lobby_id)
        if current is None:
            return None
        changed = change(current)
        if changed != current:
            self._keep(changed)
        return changed

    async def find_poll(self, platform: str, poll_id: str) -> Lobby | None:
        lobby_id = self._polls.get((platform, poll_id))
        return None if lobby_id is None else self._live(lobby_id)

    async def due(self, platform: str, now: float) -> list[Lobby]:
        lobbies = [self._live(lobby_id) for lobby_id in list(self._lobbies)]
        return [
            lobby
            for lobby in lobbies
            if lobby is not None
            and lobby.chat.platform == platform
            and lobby.deadline is not None
            and lobby.deadline <= now
        ]

    def _keep(self, lobby: Lobby) -> None:
        self._lobbies[lobby.lobby_id] = lobby
        if lobby.poll_id is not None:
            self._polls[(lobby.chat.platform, lobby.poll_id)] = lobby.lobby_id

    def _live(self, lobby_id: str) -> Lobby | None:
        """The lobby if it has not expired; an expired one is dropped with its poll."""
        lobby = self._lobbies.get(lobby_id)
        if lobby is None or lobby.expires_at > self._clock():
            return lobby
        del self._lobbies[lobby_id]
        if lobby.poll_id is not None:
            self._polls.pop((lobby.chat.platform, lobby.poll_id), None)
        return None
