"""The LobbyStore contract: the same assertions against MemoryLobbyStore and
RedisLobbyStore, on one server and on a cluster (``lobbies`` runs each test once per
implementation, on a clock the test moves)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from core.lobbies import ChatRef, Lobby, LobbyState, Member
from core.models import UserRef
from core.ports import LobbyChange, LobbyStore
from core.stores.memory_lobbies import MemoryLobbyStore
from core.stores.redis import RedisProfileStore
from testing.local_redis import LOCAL_REDIS, delete_prefix
from tests.core.stores.conftest import ManualClock

GROUP = ChatRef("telegram", "-100200300")
ALICE = Member(UserRef("telegram", "1"), "Alice", "ru")
BOB = Member(UserRef("telegram", "2"), "Bob", "en")
HOUR = 3600.0


@pytest.fixture(params=["memory", "redis", "cluster"])
async def lobbies(
    request: pytest.FixtureRequest, prefix: str, clock: ManualClock
) -> AsyncIterator[LobbyStore]:
    if request.param == "memory":
        yield MemoryLobbyStore(clock)
        return
    url = LOCAL_REDIS if request.param == "redis" else request.getfixturevalue("redis_cluster").url
    store = RedisProfileStore.from_url(url, prefix=prefix, cluster=request.param == "cluster")
    yield store.lobbies(clock)
    await store.close()
    if request.param == "redis":
        await delete_prefix(prefix)


def opened(clock: ManualClock, lobby_id: str = "k3x9a2", chat: ChatRef = GROUP) -> Lobby:
    return Lobby(
        lobby_id=lobby_id,
        chat=chat,
        members=(Member(UserRef(chat.platform, "1"), "Alice", "ru"),),
        state=LobbyState.OPEN,
        opened_at=clock.now,
        starts_at=clock.now + 600,
        expires_at=clock.now + 2 * HOUR,
    )


def every_field(clock: ManualClock) -> Lobby:
    return replace(
        opened(clock),
        members=(ALICE, BOB, Member(UserRef("telegram", "3"), 'Zoë "the critic" <b>')),
        state=LobbyState.DECIDED,
        ends_at=clock.now + 1200,
        options=(603, 604, 1891),
        votes={"1": 2, "2": 0},
        winner=1891,
        lobby_message="17",
        vote_message="19",
        poll_id="5012345678901234567",
    )


def joined_by(member: Member) -> LobbyChange:
    def change(current: Lobby) -> Lobby:
        if current.has_member(member.user):
            return current
        return replace(current, members=(*current.members, member))

    return change


async def test_a_lobby_comes_back_exactly(lobbies: LobbyStore, clock: ManualClock) -> None:
    lobby = every_field(clock)
    await lobbies.create(lobby)
    assert await lobbies.load(lobby.lobby_id) == lobby


async def test_an_unknown_lobby_is_none_and_is_never_changed(lobbies: LobbyStore) -> None:
    calls: list[Lobby] = []

    def change(current: Lobby) -> Lobby:
        calls.append(current)
        return current

    assert await lobbies.load("nope") is None
    assert await lobbies.update("nope", change) is None
    assert calls == []


async def test_an_update_replaces_the_lobby(lobbies: LobbyStore, clock: ManualClock) -> None:
    await lobbies.create(opened(clock))

    changed = await lobbies.update("k3x9a2", joined_by(BOB))

    assert changed is not None and changed.members == (ALICE, BOB)
    assert await lobbies.load("k3x9a2") == changed
    assert await lobbies.update("k3x9a2", joined_by(BOB)) == changed


async def test_a_refused_change_stores_nothing(lobbies: LobbyStore, clock: ManualClock) -> None:
    await lobbies.create(opened(clock))

    def refuse(current: Lobby) -> Lobby:
        raise LookupError("no")

    with pytest.raises(LookupError):
        await lobbies.update("k3x9a2", lambda current: refuse(joined_by(BOB)(current)))
    assert await lobbies.load("k3x9a2") == opened(clock)


async def test_concurrent_updates_all_count(lobbies: LobbyStore, clock: ManualClock) -> None:
    await lobbies.create(opened(clock))
    members = [Member(UserRef("telegram", str(n)), f"Member {n}") for n in range(10, 30)]

    await asyncio.gather(*(lobbies.update("k3x9a2", joined_by(member)) for member in members))

    lobby = await lobbies.load("k3x9a2")
    assert lobby is not None and set(lobby.members) == {ALICE, *members}


async def test_a_lobby_expires_with_its_poll(lobbies: LobbyStore, clock: ManualClock) -> None:
    await lobbies.create(opened(clock))
    await lobbies.update("k3x9a2", lambda current: replace(current, poll_id="77"))
    assert (await lobbies.find_poll("telegram", "77")) is not None

    clock.now += 2 * HOUR

    assert await lobbies.load("k3x9a2") is None
    assert await lobbies.find_poll("telegram", "77") is None
    assert await lobbies.update("k3x9a2", joined_by(BOB)) is None
    assert await lobbies.due("telegram", clock.now) == []


async def test_a_poll_is_found_on_its_platform_only(
    lobbies: LobbyStore, clock: ManualClock
) -> None:
    await lobbies.create(opened(clock))
    with_poll = await lobbies.update("k3x9a2", lambda current: replace(current, poll_id="77"))

    assert await lobbies.find_poll("telegram", "77") == with_poll
    assert await lobbies.find_poll("discord", "77") is None
    assert await lobbies.find_poll("telegram", "78") is None


async def test_due_lists_what_passed_its_deadline_on_one_platform(
    lobbies: LobbyStore, clock: ManualClock
) -> None:
    early, late = opened(clock, "early"), replace(opened(clock, "late"), starts_at=clock.now + 900)
    elsewhere = opened(clock, "other", ChatRef("discord", "555"))
    for lobby in (early, late, elsewhere):
        await lobbies.create(lobby)

    assert await lobbies.due("telegram", clock.now + 599) == []
    assert await lobbies.due("telegram", clock.now + 600) == [early]
    assert await lobbies.due("discord", clock.now + 600) == [elsewhere]

    voting = replace(early, state=LobbyState.VOTING, ends_at=clock.now + 1800)
    await lobbies.update("early", lambda current: voting)
    assert await lobbies.due("telegram", clock.now + 900) == [late]
    decided = replace(voting, state=LobbyState.DECIDED, winner=1)
    await lobbies.update("early", lambda current: decided)
    assert [lobby.lobby_id for lobby in await lobbies.due("telegram", clock.now + HOUR)] == ["late"]


async def test_an_unreadable_lobby_in_redis_is_gone(prefix: str, clock: ManualClock) -> None:
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    lobbies = store.lobbies(clock)
    await lobbies.create(opened(clock))
    client = Redis.from_url(LOCAL_REDIS)
    try:
        await client.set(f"{prefix}:{{lobby:k3x9a2}}:lobby", b'{"id": "k3x9a2", "chat": 7}')
        assert await lobbies.load("k3x9a2") is None
        assert await lobbies.due("telegram", clock.now + 600) == []
    finally:
        await client.aclose()
        await store.close()
        await delete_prefix(prefix)


async def test_a_member_stored_before_languages_has_none(prefix: str, clock: ManualClock) -> None:
    """A lobby written by a bot that kept no member's language is read with none (the
    group then hears English), so a deploy mid-night loses nothing."""
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    lobbies = store.lobbies(clock)
    await lobbies.create(every_field(clock))
    client = Redis.from_url(LOCAL_REDIS)
    key = f"{prefix}:{{lobby:k3x9a2}}:lobby"
    try:
        stored = json.loads(await client.get(key))
        stored["members"] = [member[:2] for member in stored["members"]]
        await client.set(key, json.dumps(stored), px=int(HOUR * 1000))
        lobby = await lobbies.load("k3x9a2")
        assert lobby is not None
        assert [(m.name, m.language) for m in lobby.members][:2] == [("Alice", None), ("Bob", None)]
    finally:
        await client.aclose()
        await store.close()
        await delete_prefix(prefix)
