"""Movie nights in the core: a lobby from opening to the winner, and every refusal on
the way, over a made-up catalog, a memory store and a clock the test moves."""

from __future__ import annotations

import pytest

from core.errors import (
    LobbyFullError,
    LobbyGoneError,
    LobbyStateError,
    NotAMemberError,
    NotTheOpenerError,
    TooFewMembersError,
    UnknownOptionError,
)
from core.index import MovieIndex
from core.lobbies import ChatRef, LobbyState, Member, NightSettings
from core.models import PickOutcome, UserRef
from core.movienight import MovieNights, NightCancelled, NightDecided, NightStarted
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.stores.memory_lobbies import MemoryLobbyStore
from testing.data import random_movies
from testing.doubles import FixedEmbedder
from tests.core.stores.conftest import ManualClock

GROUP = ChatRef("telegram", "-100200300")
OTHER_GROUP = ChatRef("telegram", "-100999")
ALICE, BOB, CAROL, DAN = (
    Member(UserRef("telegram", str(n)), name)
    for n, name in enumerate(("Alice", "Bob", "Carol", "Dan"), start=1)
)
SETTINGS = NightSettings(start_after=600, vote_for=900, keep_for=7200)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def profiles() -> MemoryProfileStore:
    return MemoryProfileStore()


@pytest.fixture
def recommender(profiles: MemoryProfileStore, clock: ManualClock) -> Recommender:
    movies, vectors = random_movies(80, dim=16, seed=5)
    index = MovieIndex.from_vectors(movies, vectors, "test:random")
    embedder = FixedEmbedder(index.manifest.embedder, index.dim)
    return Recommender(index, embedder, profiles, clock=clock)


@pytest.fixture
def nights(recommender: Recommender, clock: ManualClock) -> MovieNights:
    return MovieNights(recommender, MemoryLobbyStore(clock), SETTINGS, clock=clock)


def movie_ids(recommender: Recommender) -> list[int]:
    return [movie.movie_id for movie in recommender.index.movies]


async def opened_with(nights: MovieNights, *members: Member) -> str:
    lobby = await nights.open(GROUP, members[0])
    for member in members[1:]:
        await nights.join(lobby.lobby_id, GROUP, member)
    return lobby.lobby_id


async def test_a_night_from_the_lobby_to_the_winner_marked_watched(
    nights: MovieNights, recommender: Recommender
) -> None:
    ids = movie_ids(recommender)
    await recommender.pick(ALICE.user, ids[0])
    await recommender.pick(ALICE.user, ids[1])
    await recommender.pick(BOB.user, ids[2])
    await recommender.dislike(BOB.user, ids[3])
    lobby = await nights.open(GROUP, ALICE)

    assert (await nights.join(lobby.lobby_id, GROUP, BOB)).joined
    assert (await nights.join(lobby.lobby_id, GROUP, CAROL)).joined
    again = await nights.join(lobby.lobby_id, GROUP, BOB)
    assert not again.joined and again.lobby.members == (ALICE, BOB, CAROL)

    started = await nights.start(lobby.lobby_id, GROUP, ALICE.user)

    assert started.combined == (ALICE, BOB) and started.left_out == (CAROL,)
    assert len(started.picks) == 5 and all(len(pick.fits) == 2 for pick in started.picks)
    assert not {pick.movie.movie_id for pick in started.picks} & set(ids[:4])
    assert started.lobby.state is LobbyState.VOTING
    assert started.lobby.options == tuple(pick.movie.movie_id for pick in started.picks)

    assert (await nights.vote(lobby.lobby_id, GROUP, BOB.user, 2)).changed
    assert not (await nights.vote(lobby.lobby_id, GROUP, BOB.user, 2)).changed
    await nights.vote(lobby.lobby_id, GROUP, CAROL.user, 2)
    voted = await nights.vote(lobby.lobby_id, GROUP, ALICE.user, 0)
    assert voted.lobby.counts() == (1, 0, 2, 0, 0)

    decided = await nights.close(lobby.lobby_id, GROUP, ALICE.user)

    assert decided.winner == started.picks[2].movie
    watched = await nights.watched(lobby.lobby_id, GROUP, CAROL.user, "press-1")
    assert watched.outcome is PickOutcome.PICKED and watched.movie == decided.winner
    replayed = await nights.watched(lobby.lobby_id, GROUP, CAROL.user, "press-1")
    assert replayed.outcome is PickOutcome.ALREADY_PICKED
    carol = (await recommender.profiles([CAROL.user]))[0]
    assert carol.picked == (decided.winner.movie_id,)
    with pytest.raises(NotAMemberError):
        await nights.watched(lobby.lobby_id, GROUP, DAN.user)


async def test_a_tie_goes_to_the_option_listed_first_and_no_votes_to_the_first(
    nights: MovieNights,
) -> None:
    lobby_id = await opened_with(nights, ALICE, BOB)
    started = await nights.start(lobby_id, GROUP, ALICE.user)
    await nights.vote(lobby_id, GROUP, ALICE.user, 3)
    await nights.vote(lobby_id, GROUP, BOB.user, 1)
    decided = await nights.close(lobby_id, GROUP, ALICE.user)
    assert decided.winner == started.picks[1].movie

    silent = await opened_with(nights, ALICE, BOB)
    quiet = await nights.start(silent, GROUP, ALICE.user)
    assert (await nights.close(silent, GROUP, ALICE.user)).winner == quiet.picks[0].movie


async def test_a_vote_can_be_changed_and_taken_back(nights: MovieNights) -> None:
    lobby_id = await opened_with(nights, ALICE, BOB)
    await nights.start(lobby_id, GROUP, ALICE.user)
    await nights.vote(lobby_id, GROUP, BOB.user, 0)
    changed = await nights.vote(lobby_id, GROUP, BOB.user, 4)
    assert changed.changed and changed.lobby.counts() == (0, 0, 0, 0, 1)
    taken_back = await nights.vote(lobby_id, GROUP, BOB.user, None)
    assert taken_back.changed and taken_back.lobby.votes == {}


async def test_nobody_with_picks_gets_the_starters(nights: MovieNights) -> None:
    lobby_id = await opened_with(nights, ALICE, BOB)
    started = await nights.start(lobby_id, GROUP, ALICE.user)
    assert started.combined == () and started.left_out == (ALICE, BOB)
    assert len(started.picks) == 5 and all(pick.fits == () for pick in started.picks)


async def test_refusals_change_nothing(nights: MovieNights) -> None:
    lobby_id = await opened_with(nights, ALICE)
    with pytest.raises(NotTheOpenerError):
        await nights.start(lobby_id, GROUP, BOB.user)
    with pytest.raises(TooFewMembersError):
        await nights.start(lobby_id, GROUP, ALICE.user)
    with pytest.raises(LobbyGoneError):
        await nights.join(lobby_id, OTHER_GROUP, BOB)
    with pytest.raises(LobbyGoneError):
        await nights.join("nosuchlobby", GROUP, BOB)
    with pytest.raises(LobbyStateError):
        await nights.vote(lobby_id, GROUP, ALICE.user, 0)

    await nights.join(lobby_id, GROUP, BOB)
    await nights.start(lobby_id, GROUP, ALICE.user)
    with pytest.raises(LobbyStateError):
        await nights.join(lobby_id, GROUP, CAROL)
    with pytest.raises(LobbyStateError):
        await nights.start(lobby_id, GROUP, ALICE.user)
    with pytest.raises(NotAMemberError):
        await nights.vote(lobby_id, GROUP, CAROL.user, 0)
    with pytest.raises(UnknownOptionError):
        await nights.vote(lobby_id, GROUP, BOB.user, 5)
    with pytest.raises(LobbyStateError):
        await nights.watched(lobby_id, GROUP, BOB.user)
    with pytest.raises(NotTheOpenerError):
        await nights.close(lobby_id, GROUP, BOB.user)
    decided = await nights.close(lobby_id, GROUP, ALICE.user)
    assert decided.lobby.votes == {} and decided.lobby.members == (ALICE, BOB)


async def test_a_lobby_takes_twelve_members(nights: MovieNights) -> None:
    crowd = [Member(UserRef("telegram", str(100 + n)), f"Guest {n}") for n in range(11)]
    lobby_id = await opened_with(nights, ALICE, *crowd)
    with pytest.raises(LobbyFullError):
        await nights.join(lobby_id, GROUP, BOB)


async def test_an_expired_lobby_is_gone(nights: MovieNights, clock: ManualClock) -> None:
    lobby_id = await opened_with(nights, ALICE)
    clock.now += SETTINGS.keep_for
    with pytest.raises(LobbyGoneError):
        await nights.join(lobby_id, GROUP, BOB)


async def test_due_lobbies_start_cancel_and_close_by_themselves(
    nights: MovieNights, clock: ManualClock
) -> None:
    pair = await opened_with(nights, ALICE, BOB)
    alone = await opened_with(nights, CAROL)
    assert await nights.advance_due("telegram") == []

    clock.now += SETTINGS.start_after
    moved = await nights.advance_due("telegram")

    started = next(step for step in moved if isinstance(step, NightStarted))
    cancelled = next(step for step in moved if isinstance(step, NightCancelled))
    assert (started.lobby.lobby_id, cancelled.lobby.lobby_id) == (pair, alone)
    assert cancelled.lobby.state is LobbyState.CANCELLED
    assert await nights.advance_due("telegram") == []
    assert await nights.advance_due("discord") == []

    await nights.vote(pair, GROUP, BOB.user, 1)
    clock.now += SETTINGS.vote_for
    (decided,) = await nights.advance_due("telegram")

    assert isinstance(decided, NightDecided)
    assert decided.winner == started.picks[1].movie
    with pytest.raises(LobbyStateError):
        await nights.close(pair, GROUP, ALICE.user)


async def test_a_vote_in_the_platforms_poll_finds_its_lobby(nights: MovieNights) -> None:
    lobby_id = await opened_with(nights, ALICE, BOB)
    await nights.start(lobby_id, GROUP, ALICE.user)
    await nights.attach(lobby_id, poll_id="5012", vote_message="8")

    voted = await nights.vote_in_poll("telegram", "5012", BOB.user, 3)

    assert voted.lobby.votes == {BOB.user.user_id: 3} and voted.lobby.vote_message == "8"
    with pytest.raises(LobbyGoneError):
        await nights.vote_in_poll("telegram", "9999", BOB.user, 3)
    with pytest.raises(NotAMemberError):
        await nights.vote_in_poll("telegram", "5012", CAROL.user, 3)


async def test_names_are_kept_on_one_line_and_short(nights: MovieNights) -> None:
    odd = Member(UserRef("telegram", "9"), "  Zoë\n\tthe   critic " + "x" * 100, "ru")
    blank = Member(UserRef("telegram", "10"), " \n ")
    lobby = await nights.open(GROUP, odd)
    joined = await nights.join(lobby.lobby_id, GROUP, blank)
    names = [member.name for member in joined.lobby.members]
    assert names[0].startswith("Zoë the critic x") and len(names[0]) == 64
    assert names[1] == "10"
    assert [member.language for member in joined.lobby.members] == ["ru", None]
