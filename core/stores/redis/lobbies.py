"""Movie nights in Redis, beside the profiles (``moviebot`` is the configurable prefix)::

    moviebot:{lobby:k3x9a2}:lobby            string: the lobby as JSON, expiring with it
    moviebot:{poll:telegram:5012}:lobby      string: the id of the lobby of that poll
    moviebot:lobbies:due:telegram            sorted set: lobby ids by their deadline

A lobby is one key, changed with WATCH/MULTI/EXEC; its entry in ``due`` and its poll's
key move in the same transaction on one server, right after it on a cluster (see
:mod:`~core.stores.redis.global_keys`). ``due`` is checked against the lobby itself,
so a stale entry (a crash between the two on a cluster, a lobby that expired while
no bot ran) is dropped when it is next read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import quote

from redis.exceptions import WatchError

from core.errors import StoreUnavailableError
from core.lobbies import ChatRef, Lobby, LobbyState, Member
from core.models import UserRef
from core.ports import LobbyChange
from core.stores.redis.availability import (
    CONFLICT_ATTEMPTS,
    Gate,
    conflict_backoff,
    read_with_retries,
    unavailable_as_error,
)
from core.stores.redis.client import Client, as_bytes
from core.stores.redis.global_keys import commit_with_global_keys

log = logging.getLogger(__name__)


class RedisLobbyStore:
    """Lobbies as JSON strings that expire, with a sorted set of deadlines per platform."""

    def __init__(
        self, client: Client, gate: Gate, prefix: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._client, self._gate, self._prefix, self._clock = client, gate, prefix, clock

    async def create(self, lobby: Lobby) -> None:
        async with (
            unavailable_as_error(self._client, self._gate, "open a movie night"),
            self._client.pipeline(transaction=True) as transaction,
        ):
            self._write(transaction, lobby)
            async with commit_with_global_keys(self._client, transaction) as global_keys:
                self._index(global_keys, lobby)

    async def load(self, lobby_id: str) -> Lobby | None:
        key = self._lobby_key(lobby_id)
        value = await self._read(f"read movie night {lobby_id}", lambda: self._client.get(key))
        return self._live(value, lobby_id)

    async def update(self, lobby_id: str, change: LobbyChange) -> Lobby | None:
        async with unavailable_as_error(self._client, self._gate, f"change movie night {lobby_id}"):
            for attempt in range(CONFLICT_ATTEMPTS):
                with suppress(WatchError):
                    return await self._try_update(lobby_id, change)
                await asyncio.sleep(conflict_backoff(attempt))
        raise StoreUnavailableError(f"movie night {lobby_id} kept changing; try again")

    async def find_poll(self, platform: str, poll_id: str) -> Lobby | None:
        key = self._poll_key(platform, poll_id)
        lobby_id = await self._read("find a poll's movie night", lambda: self._client.get(key))
        return None if lobby_id is None else await self.load(as_bytes(lobby_id).decode())

    async def due(self, platform: str, now: float) -> list[Lobby]:
        key = self._due_key(platform)
        ids = await self._read(
            "list movie nights due", lambda: self._client.zrangebyscore(key, "-inf", now)
        )
        lobbies = []
        for lobby_id in (as_bytes(raw).decode() for raw in ids):
            lobby = await self.load(lobby_id)
            if lobby is not None and lobby.deadline is not None and lobby.deadline <= now:
                lobbies.append(lobby)
            elif lobby is None or lobby.deadline is None:
                async with unavailable_as_error(self._client, self._gate, "drop a movie night"):
                    await self._client.zrem(key, lobby_id)
        return lobbies

    async def _try_update(self, lobby_id: str, change: LobbyChange) -> Lobby | None:
        key = self._lobby_key(lobby_id)
        async with self._client.pipeline(transaction=True) as transaction:
            await transaction.watch(key)
            current = self._live(await transaction.get(key), lobby_id)
            if current is None:
                return None
            changed = change(current)
            if changed == current:
                return current
            transaction.multi()  # type: ignore[no-untyped-call]
            self._write(transaction, changed)
            async with commit_with_global_keys(self._client, transaction) as global_keys:
                self._index(global_keys, changed)
            return changed

    def _live(self, value: bytes | str | None, lobby_id: str) -> Lobby | None:
        """The stored lobby, unless it is unreadable or expired by this store's clock."""
        lobby = None if value is None else _decoded(as_bytes(value), lobby_id)
        return lobby if lobby is not None and lobby.expires_at > self._clock() else None

    def _write(self, pipe: Any, lobby: Lobby) -> None:
        """Queue the lobby's own key, expiring with it (deleted if it is already over)."""
        milliseconds = math.ceil((lobby.expires_at - self._clock()) * 1000)
        if milliseconds > 0:
            pipe.set(self._lobby_key(lobby.lobby_id), _encoded(lobby), px=milliseconds)
        else:
            pipe.delete(self._lobby_key(lobby.lobby_id))

    def _index(self, pipe: Any, lobby: Lobby) -> None:
        """Queue the lobby's deadline and its poll's key."""
        due = self._due_key(lobby.chat.platform)
        if lobby.deadline is None:
            pipe.zrem(due, lobby.lobby_id)
        else:
            pipe.zadd(due, {lobby.lobby_id: lobby.deadline})
        milliseconds = math.ceil((lobby.expires_at - self._clock()) * 1000)
        if lobby.poll_id is not None and milliseconds > 0:
            poll = self._poll_key(lobby.chat.platform, lobby.poll_id)
            pipe.set(poll, lobby.lobby_id, px=milliseconds)

    async def _read(self, action: str, read: Callable[[], Any]) -> Any:
        return await read_with_retries(self._client, self._gate, action, read)

    def _lobby_key(self, lobby_id: str) -> str:
        return f"{self._prefix}:{{lobby:{quote(lobby_id, safe='')}}}:lobby"

    def _poll_key(self, platform: str, poll_id: str) -> str:
        tag = f"poll:{quote(platform, safe='')}:{quote(poll_id, safe='')}"
        return f"{self._prefix}:{{{tag}}}:lobby"

    def _due_key(self, platform: str) -> str:
        return f"{self._prefix}:lobbies:due:{quote(platform, safe='')}"


def _encoded(lobby: Lobby) -> str:
    return json.dumps(
        {
            "id": lobby.lobby_id,
            "chat": [lobby.chat.platform, lobby.chat.chat_id],
            "members": [
                [member.user.user_id, member.name, member.language] for member in lobby.members
            ],
            "state": lobby.state.value,
            "opened_at": lobby.opened_at,
            "starts_at": lobby.starts_at,
            "expires_at": lobby.expires_at,
            "ends_at": lobby.ends_at,
            "options": list(lobby.options),
            "votes": dict(lobby.votes),
            "winner": lobby.winner,
            "lobby_message": lobby.lobby_message,
            "vote_message": lobby.vote_message,
            "poll_id": lobby.poll_id,
        },
        separators=(",", ":"),
    )


def _decoded(value: bytes, lobby_id: str) -> Lobby | None:
    """The stored lobby; one that cannot be read is logged and treated as gone."""
    try:
        fields = json.loads(value)
        platform, chat_id = fields["chat"]
        return Lobby(
            lobby_id=str(fields["id"]),
            chat=ChatRef(str(platform), str(chat_id)),
            members=tuple(_member(str(platform), *member) for member in fields["members"]),
            state=LobbyState(fields["state"]),
            opened_at=float(fields["opened_at"]),
            starts_at=float(fields["starts_at"]),
            expires_at=float(fields["expires_at"]),
            ends_at=_optional(float, fields["ends_at"]),
            options=tuple(int(movie_id) for movie_id in fields["options"]),
            votes={str(user_id): int(option) for user_id, option in fields["votes"].items()},
            winner=_optional(int, fields["winner"]),
            lobby_message=_optional(str, fields["lobby_message"]),
            vote_message=_optional(str, fields["vote_message"]),
            poll_id=_optional(str, fields["poll_id"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("ignored the unreadable movie night %s: %s", lobby_id, error)
        return None


def _member(platform: str, user_id: Any, name: Any, language: Any = None) -> Member:
    """A stored member; one stored before members had a language has none."""
    return Member(UserRef(platform, str(user_id)), str(name), _optional(str, language))


def _optional(kind: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else kind(value)
