"""What a movie night says, in English and in Russian: how a movie fits, the list's
title, the winner, the answers to a vote, and every refusal."""

from __future__ import annotations

import pytest

from adapters import movienight_texts as night_texts
from adapters import texts
from adapters.buttons import StaleButtonError
from adapters.i18n import words
from core import errors
from core.errors import InvalidRequestError
from core.group import GroupPick
from core.lobbies import ChatRef, Lobby, LobbyState, Member, NightSettings
from core.models import Movie, UserRef

EN, RU = words("en"), words("ru")
MOVIE = Movie(7, "Jaws", 1975)
NIGHT_REFUSALS: list[tuple[InvalidRequestError, str]] = [
    (errors.LobbyGoneError("k3x9"), "This movie night is over. /movienight opens a new one."),
    (errors.LobbyStateError(LobbyState.OPEN), "The vote has not started yet."),
    (errors.LobbyStateError(LobbyState.VOTING), "This movie night has started: the vote is on."),
    (errors.LobbyStateError(LobbyState.DECIDED), "This movie night's vote is closed."),
    (
        errors.LobbyStateError(LobbyState.CANCELLED),
        "This movie night is off. /movienight opens a new one.",
    ),
    (errors.LobbyFullError(12), "This movie night is full: 12 people."),
    (errors.TooFewMembersError(1, 2), "Wait for others to join: a movie night needs 2 people."),
    (errors.NotTheOpenerError(), "Only the one who opened this movie night can do that."),
    (errors.NotAMemberError(), "Only those who joined this movie night can do that."),
    (errors.UnknownOptionError(7), "That is not one of the choices."),
    (StaleButtonError(), "This button is not one of this chat's movie nights."),
]


def lobby(*languages: str | None, votes: dict[str, int] | None = None) -> Lobby:
    """A decided night of one member per language, the first its opener."""
    members = tuple(
        Member(UserRef("telegram", str(n)), f"User{n}", language)
        for n, language in enumerate(languages, start=1)
    )
    return Lobby(
        lobby_id="k3x9a2",
        chat=ChatRef("telegram", "-100"),
        members=members,
        state=LobbyState.DECIDED,
        opened_at=0.0,
        starts_at=600.0,
        expires_at=7200.0,
        options=(MOVIE.movie_id, 8),
        votes=votes or {},
    )


@pytest.mark.parametrize(("error", "said"), NIGHT_REFUSALS)
def test_every_refusal_of_a_movie_night_is_worded(error: InvalidRequestError, said: str) -> None:
    assert night_texts.night_refusal(EN, error) == said
    assert night_texts.night_refusal(RU, error) not in {said, ""}
    assert str(error)


def test_a_movie_night_words_other_refusals_as_everyone() -> None:
    error = errors.UnknownMovieError(5)
    assert night_texts.night_refusal(RU, error) == texts.refusal(RU, error)


@pytest.mark.parametrize(
    ("fits", "english", "russian"),
    [
        ((0.95, 0.97, 0.99), "fits 3 of 3", "подходит 3 из 3"),
        (
            (0.95, 0.2, 0.91),
            "fits 2 of 3 · leans to Alice's taste",
            "подходит 2 из 3 · ближе всего ко вкусу: Alice",
        ),
        ((0.1, 0.5, 0.8), "leans to @Carol's taste", "ближе всего ко вкусу: @Carol"),
        ((), "", ""),
    ],
)
def test_each_movie_says_how_it_fits_without_naming_picks(
    fits: tuple[float, ...], english: str, russian: str
) -> None:
    names = ["Alice", "Bob", "@Carol"][: len(fits)]
    pick = GroupPick(MOVIE, 0.0, fits)
    assert night_texts.fit_line(EN, pick, names) == english
    assert night_texts.fit_line(RU, pick, names) == russian


@pytest.mark.parametrize(
    ("combined", "members", "english", "russian"),
    [
        (3, 3, "Tonight's picks for all 3 of you", "Подборка на вечер для всех 3 участников"),
        (
            2,
            3,
            "Tonight's picks, from the taste of the 2 of you with picks",
            "Подборка на вечер по вкусу 2 из вас — тех, кто уже что-то выбирал",
        ),
        (
            0,
            3,
            "None of you has picks yet, so here are movies to start with",
            "Никто из вас пока ничего не выбирал, так что вот фильмы для начала",
        ),
    ],
)
def test_the_lists_title_says_whose_tastes_made_it(
    combined: int, members: int, english: str, russian: str
) -> None:
    assert night_texts.group_list_title(EN, combined, members) == english
    assert night_texts.group_list_title(RU, combined, members) == russian


@pytest.mark.parametrize(
    ("votes", "english", "russian"),
    [
        ({"1": 0}, "(1 of 1 vote)", "(1 из 1 голоса)"),
        ({"1": 0, "2": 0, "3": 1}, "(2 of 3 votes)", "(2 из 3 голосов)"),
        ({}, "(nobody voted, so the best fit wins)", "(никто не голосовал — побеждает"),
    ],
)
def test_the_winner_is_told_with_its_votes(
    votes: dict[str, int], english: str, russian: str
) -> None:
    decided = lobby("ru", "en", None, votes=votes)
    assert night_texts.night_decided(EN, MOVIE, decided).startswith(
        f"🏆 Tonight: Jaws (1975) {english}"
    )
    said = night_texts.night_decided(RU, MOVIE, decided)
    assert said.startswith(f"🏆 Сегодня смотрим: Jaws (1975) {russian}")
    assert "«✓ Посмотрено»" in said


def test_a_vote_is_answered_in_the_voters_words() -> None:
    assert night_texts.voted(EN, True, 2) == "Your vote: 3."
    assert night_texts.voted(EN, False, 2) == "You voted 3 already."
    assert night_texts.voted(EN, True, None) == "Vote taken back."
    assert night_texts.voted(RU, True, 2) == "Ваш голос: 3."
    assert night_texts.voted(RU, False, 0) == "Вы уже голосовали за 1."


def test_the_lobby_counts_its_people_and_minutes_in_russian_forms() -> None:
    one_minute = NightSettings(start_after=60.0, min_members=2, max_members=21)
    said = night_texts.lobby_text(RU, lobby("ru", "en"), one_minute)
    assert "от 2 до 21 человека" in said and "через 1 минуту после открытия" in said
    assert said.endswith("\nУчаствуют: User1, User2")
    three = night_texts.lobby_text(RU, lobby("ru"), NightSettings(start_after=180.0))
    assert "от 2 до 12 человек" in three and "через 3 минуты" in three


def test_the_group_hears_the_language_of_the_one_who_opened_the_night() -> None:
    assert night_texts.group_words(lobby("ru", "en")).language == "ru"
    assert night_texts.group_words(lobby("en", "ru")).language == "en"
    assert night_texts.group_words(lobby(None, "ru")).language == "en"
