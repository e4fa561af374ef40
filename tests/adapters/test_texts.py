"""The words every door shares: outcomes, reasons, refusals, counts, commands."""

from __future__ import annotations

import pytest

from adapters import buttons, i18n, texts
from adapters.buttons import ExpiredButtonError, ForeignButtonError, StaleButtonError
from adapters.discord import render as discord_render
from adapters.telegram import render as telegram_render
from adapters.texts import UsageError
from core import errors
from core.errors import EmbedderError, InvalidRequestError, StoreFullError, StoreUnavailableError
from core.models import (
    Exploration,
    Movie,
    PickOutcome,
    PickResult,
    Reason,
    ReasonKind,
    Subscription,
)
from tests.adapters.test_movienight_texts import NIGHT_REFUSALS

DIE_HARD = Movie(1, "Die Hard", 1988)
JAWS = Movie(2, "Jaws", 1975)
TITANIC = Movie(3, "Titanic", 1997)
EN, RU = i18n.words("en"), i18n.words("ru")


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (PickResult(PickOutcome.PICKED, DIE_HARD), "✓ picked: Die Hard (1988)"),
        (PickResult(PickOutcome.ALREADY_PICKED, JAWS), "already picked: Jaws (1975)"),
        (PickResult(PickOutcome.DISLIKED, JAWS), "✗ less like: Jaws (1975)"),
        (PickResult(PickOutcome.ALREADY_DISLIKED, JAWS), "already noted: Jaws (1975)"),
        (PickResult(PickOutcome.UNDID_PICK, TITANIC), "↶ undid pick: Titanic (1997)"),
        (PickResult(PickOutcome.UNDID_DISLIKE, TITANIC), "↶ undid dislike: Titanic (1997)"),
        (PickResult(PickOutcome.ALREADY_UNDONE, None), "already undone"),
    ],
)
def test_every_outcome_has_its_line(result: PickResult, words: str) -> None:
    assert texts.pick_result(EN, result) == words


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (Reason(ReasonKind.CLOSE_TO_PICK, DIE_HARD), "close to Die Hard (1988), which you picked"),
        (Reason(ReasonKind.CLOSE_TO_TASTE), "close to your taste"),
        (Reason(ReasonKind.POPULAR), "popular with viewers"),
        (Reason(ReasonKind.CATALOG_CORNER), "a starting point from a corner of the catalog"),
        (
            Reason(ReasonKind.CLOSE_TO_PICK, DIE_HARD, Exploration("angle", 0.5)),
            "exploring (angle 0.5): close to Die Hard (1988), which you picked",
        ),
        (
            Reason(ReasonKind.CLOSE_TO_TASTE, exploration=Exploration("bucket", 0.6)),
            "exploring (bucket 0.6): close to your taste",
        ),
        (
            Reason(ReasonKind.CLOSE_TO_PICK, JAWS, Exploration()),
            "exploring: close to Jaws (1975), which you picked",
        ),
    ],
)
def test_every_reason_is_worded(reason: Reason, words: str) -> None:
    assert texts.reason(EN, reason) == words


REFUSALS: list[tuple[InvalidRequestError, str]] = [
    (errors.InvalidQueryError(), "Type a few words to search for, for example: space adventure"),
    (errors.UnknownMovieError(123_456_789), "That movie is not in the catalog; search again."),
    (errors.NoTasteYetError(), "Pick a movie you like first; then I can steer away from others."),
    (errors.AlreadyPickedError(DIE_HARD), "Die Hard (1988) is one of your picks."),
    (errors.NothingToUndoError(), "Nothing to undo."),
    (
        errors.UnknownStrategyError("warp", ("angle", "gaussian", "bucket")),
        "Unknown exploration 'warp'. Try one of: angle, gaussian, bucket.",
    ),
    (errors.StrengthOutOfRangeError(1.5), "Strength goes from 0 (your taste) to 1 (far from it)."),
    (errors.InvalidSlotError(7, 24), "Choose a day (mon-sun) and an hour (0-23), like: fri 18"),
    (
        errors.UnknownTimeZoneError("Mars/Base"),
        "Unknown time zone 'Mars/Base'; use a name like Europe/Berlin or UTC.",
    ),
    (StaleButtonError(), "This list is out of date — search again."),
    (ExpiredButtonError(), "This confirmation has expired — send /forget again."),
    (ForeignButtonError(), "These are someone else's picks — run /search yourself."),
    (errors.ExpiredListError(), "This list has expired — ask for a new one."),
    (errors.EndOfListError(50, 50), "That's the end of this list."),
    (UsageError("Give one movie number, for example 2."), "Give one movie number, for example 2."),
    (
        errors.UnknownLanguageError("de", ("en", "ru")),
        "I don't speak 'de'. Choose one of: en, ru.",
    ),
]


@pytest.mark.parametrize(("error", "words"), REFUSALS)
def test_every_refusal_is_worded_for_the_user(error: InvalidRequestError, words: str) -> None:
    assert texts.refusal(EN, error) == words
    assert str(error)  # a line for the logs


def test_no_refusal_is_left_without_words() -> None:
    def subclasses(kind: type[InvalidRequestError]) -> set[type[InvalidRequestError]]:
        direct = set(kind.__subclasses__())
        return direct.union(*(subclasses(sub) for sub in direct))

    defined = {
        kind
        for kind in subclasses(InvalidRequestError)
        if kind.__module__ in {errors.__name__, buttons.__name__, texts.__name__}
    }
    assert defined == {type(error) for error, _ in REFUSALS + NIGHT_REFUSALS}


@pytest.mark.parametrize(
    ("number", "picks", "less"),
    [
        (0, "0 picks", "0 less-like-this"),
        (1, "1 pick", "1 less-like-this"),
        (2, "2 picks", "2 less-like-this"),
    ],
)
def test_counts_are_plural_but_for_one(number: int, picks: str, less: str) -> None:
    assert (texts.picks(EN, number), texts.less_like_this(EN, number)) == (picks, less)


@pytest.mark.parametrize(
    ("number", "picks"),
    [(1, "1 выбор"), (3, "3 выбора"), (5, "5 выборов"), (11, "11 выборов"), (21, "21 выбор")],
)
def test_russian_counts_take_each_of_three_plural_forms(number: int, picks: str) -> None:
    assert texts.picks(RU, number) == picks
    assert texts.less_like_this(RU, number) == f"{number} «меньше такого»"


def test_a_refusal_in_russian_keeps_what_the_user_typed() -> None:
    assert texts.refusal(RU, errors.UnknownTimeZoneError("Mars/Base")) == (
        "Неизвестный часовой пояс «Mars/Base»; укажите название вроде Europe/Moscow или UTC."
    )
    assert texts.refusal(RU, UsageError("Give one movie number, for example 2.")) == (
        "Укажите один номер фильма, например 2."
    )
    friday = texts.subscribed(RU, Subscription(4, 9, "Europe/Moscow"))
    assert friday.startswith("Подписка оформлена: каждую пятницу в 09:00 (Europe/Moscow)")


def test_shorten_keeps_one_line_and_cuts_at_a_word() -> None:
    assert texts.shorten("  a  short\ntext ", 30) == "a short text"
    assert texts.shorten("the quick brown fox jumps", 18) == "the quick brown…"
    assert texts.shorten("x" * 50, 10) == "x" * 9 + "…"
    assert all(len(texts.shorten("word " * 40, limit)) <= limit for limit in (5, 17, 100))


def test_every_door_lists_the_one_command_list() -> None:
    names = [command.name for command in texts.COMMANDS]
    assert len(set(names)) == len(names)
    assert [command.name for command in discord_render.COMMANDS] == [
        name for name in names if name != "start"
    ]
    help_text = telegram_render.help_text(EN)
    for command in texts.COMMANDS:
        assert f"/{command.name} — {command.description}" in help_text


def test_a_full_store_is_told_apart_from_an_unreachable_one() -> None:
    assert texts.unavailable(EN, StoreFullError("at maxmemory")) == texts.FULL
    assert texts.unavailable(EN, StoreUnavailableError("unreachable")) == texts.UNAVAILABLE
    assert texts.unavailable(EN, EmbedderError("down")) == texts.UNAVAILABLE
