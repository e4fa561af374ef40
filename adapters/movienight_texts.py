"""What a movie night says, worded once for both chat platforms in every language the
bot speaks (plain text: Telegram escapes it as HTML, Discord as markdown).

What the group sees is said in the language of the member who opened the night (see
:func:`group_words`); what one member sees (the answer to a press, a private message)
in that member's own. A constant here is a message id, said with
``words.gettext(movienight_texts.NAME)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters import i18n
from adapters.buttons import StaleButtonError
from adapters.i18n import N_, Words
from adapters.texts import refusal, shorten
from core.errors import (
    InvalidRequestError,
    LobbyFullError,
    LobbyGoneError,
    LobbyStateError,
    NotAMemberError,
    NotTheOpenerError,
    TooFewMembersError,
    UnknownOptionError,
)
from core.group import GroupPick
from core.lobbies import Lobby, LobbyState, NightSettings
from core.models import Movie

NIGHT_IN_GROUPS = N_("Movie night is for groups: add me to a group and send /movienight there.")
NIGHT_IN_CHANNELS = N_("Movie night is for a server's channel: send /movienight in one.")
JOIN_BUTTON = N_("🙋 I'm in")
START_BUTTON = N_("▶ Start")
CLOSE_VOTE_BUTTON = N_("🏁 Close the vote")
WATCHED_BUTTON = N_("✓ I watched it")
VOTE_QUESTION = N_("Which one tonight?")
JOINED = N_("You're in!")
ALREADY_JOINED = N_("You're in already.")
NIGHT_CANCELLED = N_(
    "Not enough people joined, so this movie night is off. /movienight tries again."
)
NO_PICKS_FOR_NIGHT = N_(
    "You joined a movie night, but you have no picks yet, so the group's list comes from "
    "the others' taste. You vote all the same! To count next time, search for a few movies "
    "you like and press 👍 on them."
)
PICKS_FIRST_BY_SEARCH = N_(
    "Some of you have no picks yet, so the list comes from the others' taste; you vote all "
    "the same. To count next time, use /search and pick a few movies you like."
)
"""Said in a Discord channel when members without picks could not be told privately."""


def group_words(lobby: Lobby) -> Words:
    """The words of what the whole group sees: in the language of the member who opened
    the night, as it was when they opened it."""
    return i18n.words(lobby.members[0].language or i18n.SOURCE_LANGUAGE)


def lobby_text(words: Words, lobby: Lobby, settings: NightSettings) -> str:
    """The lobby: how to join, who opened it, when it starts, who is in."""
    people = words.ngettext(
        "{minimum} to {count} person",
        "{minimum} to {count} people",
        settings.max_members,
        minimum=settings.min_members,
    )
    invitation = words.gettext(
        "🎬 Movie night! Press “{join}” to join: {people}.",
        join=words.gettext(JOIN_BUTTON),
        people=people,
    )
    start = words.ngettext(
        "It starts when {opener} presses “{start}”, or by itself {count} minute after opening.",
        "It starts when {opener} presses “{start}”, or by itself {count} minutes after opening.",
        round(settings.start_after / 60),
        opener=lobby.members[0].name,
        start=words.gettext(START_BUTTON),
    )
    members = words.gettext("In: {names}", names=_names(lobby))
    return f"{invitation} {start}\n{members}"


def night_started(words: Words, lobby: Lobby) -> str:
    """What the lobby says once the night started."""
    return words.gettext("🎬 Movie night started with {names}.", names=_names(lobby))


def group_list_title(words: Words, combined: int, members: int) -> str:
    """The title of the group's list: whose tastes made it."""
    if combined == 0:
        return words.gettext("None of you has picks yet, so here are movies to start with")
    if combined == members:
        return words.ngettext(
            "Tonight's picks for the {count} of you",
            "Tonight's picks for all {count} of you",
            members,
        )
    return words.ngettext(
        "Tonight's picks, from the taste of the {count} of you with picks",
        "Tonight's picks, from the taste of the {count} of you with picks",
        combined,
    )


def fit_line(words: Words, pick: GroupPick, names: Sequence[str]) -> str:
    """How a movie fits the members whose tastes made the list (``names``, in the order
    of ``pick.fits``): ``fits 4 of 4``, else whose taste it leans to."""
    if not names or pick.closest is None:
        return ""
    fitted, everyone = len(pick.fitted), len(names)
    if fitted == everyone:
        return words.gettext("fits {everyone} of {everyone}", everyone=everyone)
    leaning = words.gettext("leans to {name}'s taste", name=names[pick.closest])
    if not fitted:
        return leaning
    fits = words.gettext("fits {fitted} of {everyone}", fitted=fitted, everyone=everyone)
    return f"{fits} · {leaning}"


def vote_label(number: int, movie: Movie, limit: int) -> str:
    """An option of the vote: its number and the movie, cut to ``limit`` characters."""
    return shorten(f"{number}. {movie.label}", limit)


def vote_count(words: Words, option: int, votes: int) -> str:
    """A vote button's label: its option's number and its votes so far."""
    return words.ngettext(
        "{number} · {count} vote", "{number} · {count} votes", votes, number=option + 1
    )


def voted(words: Words, changed: bool, option: int | None) -> str:
    """The answer to a vote."""
    if option is None:
        return words.gettext("Vote taken back.")
    if changed:
        return words.gettext("Your vote: {number}.", number=option + 1)
    return words.gettext("You voted {number} already.", number=option + 1)


def night_decided(words: Words, winner: Movie, lobby: Lobby) -> str:
    """The winner, with its votes, and how to mark it watched."""
    counts, votes = lobby.counts(), len(lobby.votes)
    won = counts[lobby.options.index(winner.movie_id)] if winner.movie_id in lobby.options else 0
    if votes:
        tally = words.ngettext("{won} of {count} vote", "{won} of {count} votes", votes, won=won)
    else:
        tally = words.gettext("nobody voted, so the best fit wins")
    return words.gettext(
        "🏆 Tonight: {movie} ({tally}). Enjoy! Seen it? Press “{watched}” and it becomes one "
        "of your picks.",
        movie=winner.label,
        tally=tally,
        watched=words.gettext(WATCHED_BUTTON),
    )


def vote_closed(words: Words, winner: Movie) -> str:
    """What the vote's message says once it is closed."""
    return words.gettext("The vote is closed: {movie} won.", movie=winner.label)


def picks_first_by_link(words: Words, link: str) -> str:
    """Said in a Telegram group when members without picks could not be told privately:
    ``link`` opens the private chat where they pick movies."""
    return words.gettext(
        "Some of you have no picks yet, so the list comes from the others' taste; you vote "
        "all the same. To count next time, open {link}, press Start and pick a few movies "
        "you like.",
        link=link,
    )


def night_refusal(words: Words, error: InvalidRequestError) -> str:
    """Why a movie night's button or command was turned down."""
    match error:
        case LobbyGoneError():
            return words.gettext("This movie night is over. /movienight opens a new one.")
        case LobbyStateError(state=LobbyState.OPEN):
            return words.gettext("The vote has not started yet.")
        case LobbyStateError(state=LobbyState.VOTING):
            return words.gettext("This movie night has started: the vote is on.")
        case LobbyStateError(state=LobbyState.DECIDED):
            return words.gettext("This movie night's vote is closed.")
        case LobbyStateError():
            return words.gettext("This movie night is off. /movienight opens a new one.")
        case LobbyFullError(limit=limit):
            return words.ngettext(
                "This movie night is full: {count} person.",
                "This movie night is full: {count} people.",
                limit,
            )
        case TooFewMembersError(minimum=minimum):
            return words.ngettext(
                "Wait for others to join: a movie night needs {count} person.",
                "Wait for others to join: a movie night needs {count} people.",
                minimum,
            )
        case NotTheOpenerError():
            return words.gettext("Only the one who opened this movie night can do that.")
        case NotAMemberError():
            return words.gettext("Only those who joined this movie night can do that.")
        case UnknownOptionError():
            return words.gettext("That is not one of the choices.")
        case StaleButtonError():
            return words.gettext("This button is not one of this chat's movie nights.")
    return refusal(words, error)


def _names(lobby: Lobby) -> str:
    return ", ".join(member.name for member in lobby.members)
