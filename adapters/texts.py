"""What the bot says, worded once for every door: plain text, which Telegram escapes as
HTML, Discord as markdown, and the console prints as it is.

The core returns outcomes and typed refusals; this module words them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.buttons import ExpiredButtonError, ForeignButtonError, StaleButtonError
from core.errors import (
    AlreadyPickedError,
    InvalidQueryError,
    InvalidRequestError,
    InvalidSlotError,
    LobbyFullError,
    LobbyGoneError,
    LobbyStateError,
    NotAMemberError,
    NoTasteYetError,
    NothingToUndoError,
    NotTheOpenerError,
    StoreFullError,
    StrengthOutOfRangeError,
    TooFewMembersError,
    UnknownMovieError,
    UnknownOptionError,
    UnknownStrategyError,
    UnknownTimeZoneError,
)
from core.group import GroupPick
from core.lobbies import Lobby, LobbyState, NightSettings
from core.models import (
    Movie,
    Notice,
    PickOutcome,
    PickResult,
    Reason,
    ReasonKind,
    Recommendation,
    SearchHit,
    Subscription,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNAVAILABLE = "I can't reach my memory right now, try again in a minute."
FULL = "My memory is full, so nothing changed; the operator is told. Try again later."


def unavailable(error: Exception) -> str:
    """What a user is told when the profile store or the embedder cannot serve."""
    return FULL if isinstance(error, StoreFullError) else UNAVAILABLE


BAD_OPTION = "I could not read one of the options; /help shows what each command takes."
SLOW_DOWN = "Slow down a little, please: try again in a few seconds."
TOO_MANY_WAITING = "You're sending faster than I can answer, so I skipped some. Slow down, please."
NO_PICKS_YET = "No picks yet. Search for a movie you like and press 👍."
FORGET_QUESTION = "Delete every pick and your taste? This cannot be undone."
FORGET_BUTTON = "Yes, forget me"
FORGOTTEN = "Done: I forgot every pick and your taste."
EMPTY_LIST = "Nothing found — try other words."
LESS_LIKE_THIS_BUTTON = "👎 less like this"
TOP_GENRES = "Top genres"
LAST_PICKS = "Last picks"

PRIVATE_ANSWERS = {
    "profile": "Your profile is private, so I show it in our private chat",
    "subscribe": "The weekly picks come by private message",
}
"""Why a command asked in a group is answered in the private chat, by command."""
SENT_PRIVATELY = {
    "profile": "Your profile is private: I sent it to you in our private chat.",
    "subscribe": "The weekly picks come by private message: I sent you the details there.",
}
DIRECT_MESSAGES_CLOSED = (
    "The weekly picks come by direct message, and yours are closed to me: allow direct "
    "messages from this server's members (the server's Privacy Settings), then /subscribe again."
)

COMMANDS_TITLE = "Commands"
SEARCH_RESULTS = "Search results"
FOR_YOU = "For you"
EXPLORING = "Exploring: a step outside your taste"
TO_START_WITH = "To start with"
WEEKLY_TITLE = "Your weekly picks: a step outside your taste"


@dataclass(frozen=True, slots=True)
class Command:
    """A chat command: its name, what it does, and the arguments of an example call
    (for a platform whose commands take their arguments as typed text)."""

    name: str
    description: str
    example: str = ""


COMMANDS = (
    Command("start", "what this bot does, and movies to start with"),
    Command("search", "find movies by title, plot or mood", "space adventure"),
    Command("recommend", "movies for your taste"),
    Command("explore", "a step outside your taste (strength 0-1)", "0.5"),
    Command("profile", "what I know about your taste"),
    Command("undo", "take back your last pick or less-like-this"),
    Command("forget", "delete everything I know about you"),
    Command("subscribe", "weekly exploratory picks by direct message", "fri 18 Europe/Berlin"),
    Command("unsubscribe", "stop the weekly picks"),
    Command("movienight", "one movie for the whole group, by vote"),
    Command("help", "every command"),
)
"""Every chat command, in the order help lists them."""


def described(name: str) -> str:
    """What the command ``name`` does."""
    return next(command.description for command in COMMANDS if command.name == name)


def pick_button(number: int, title: str, limit: int) -> str:
    """The label of the button that picks movie ``number`` of a list, its title cut to
    ``limit`` characters."""
    return f"👍 {number}. {shorten(title, limit)}"


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 pick``, ``2 picks``: the number with its noun, plural (``noun`` + s unless
    given) for any number but one."""
    if number == 1:
        return f"{number} {noun}"
    return f"{number} {plural or noun + 's'}"


def picks(number: int) -> str:
    """``1 pick``, ``2 picks``."""
    return counted(number, "pick")


def less_like_this(number: int) -> str:
    """``1 less-like-this``, ``2 less-like-this``."""
    return counted(number, "less-like-this", "less-like-this")


def pick_result(result: PickResult) -> str:
    """The one-line outcome of a pick, a less-like-this or an undo."""
    label = result.movie.label if result.movie else ""
    match result.outcome:
        case PickOutcome.PICKED:
            return f"✓ picked: {label}"
        case PickOutcome.ALREADY_PICKED:
            return f"already picked: {label}"
        case PickOutcome.DISLIKED:
            return f"✗ less like: {label}"
        case PickOutcome.ALREADY_DISLIKED:
            return f"already noted: {label}"
        case PickOutcome.UNDID_PICK:
            return f"↶ undid pick: {label}"
        case PickOutcome.UNDID_DISLIKE:
            return f"↶ undid dislike: {label}"
        case PickOutcome.ALREADY_UNDONE:
            return "already undone"


def reason(why: Reason) -> str:
    """Why a movie is suggested, in a few words."""
    match why.kind:
        case ReasonKind.CLOSE_TO_PICK if why.pick is not None:
            closeness = f"close to {why.pick.label}, which you picked"
        case ReasonKind.PICKED_TOGETHER if why.pick is not None:
            closeness = f"people who picked {why.pick.label} also picked this"
        case ReasonKind.POPULAR:
            closeness = "popular with viewers"
        case ReasonKind.CATALOG_CORNER:
            closeness = "a starting point from a corner of the catalog"
        case _:
            closeness = "close to your taste"
    exploration = why.exploration
    if exploration is None:
        return closeness
    if exploration.strategy is None or exploration.strength is None:
        return f"exploring: {closeness}"
    return f"exploring ({exploration.strategy} {exploration.strength:g}): {closeness}"


def listed(found: Sequence[SearchHit | Recommendation]) -> list[tuple[Movie, str]]:
    """Each movie of a list with the line that says why it is there (none for a search)."""
    return [
        (item.movie, reason(item.reason) if isinstance(item, Recommendation) else "")
        for item in found
    ]


class UsageError(InvalidRequestError):
    """Arguments a door cannot read, refused in that door's own words (its ``str()``)."""


def refusal(error: InvalidRequestError) -> str:
    """What a user reads when the bot turns a request down."""
    match error:
        case InvalidQueryError():
            return "Type a few words to search for, for example: space adventure"
        case UnknownMovieError():
            return "That movie is not in the catalog; search again."
        case NoTasteYetError():
            return "Pick a movie you like first; then I can steer away from others."
        case AlreadyPickedError(movie=movie):
            return f"{movie.label} is one of your picks."
        case NothingToUndoError():
            return "Nothing to undo."
        case UnknownStrategyError(strategy=strategy, known=known):
            return f"Unknown exploration '{strategy}'. Try one of: {', '.join(known)}."
        case StrengthOutOfRangeError():
            return "Strength goes from 0 (your taste) to 1 (far from it)."
        case InvalidSlotError():
            return "Choose a day (mon-sun) and an hour (0-23), like: fri 18"
        case UnknownTimeZoneError(timezone=timezone):
            shown = shorten(timezone, 40)
            return f"Unknown time zone '{shown}'; use a name like Europe/Berlin or UTC."
        case StaleButtonError():
            return "This list is out of date — search again."
        case ExpiredButtonError():
            return "This confirmation has expired — send /forget again."
        case ForeignButtonError():
            return "These are someone else's picks — run /search yourself."
        case UsageError():
            return str(error)
    return "That cannot be done; nothing changed."


def subscribed(slot: Subscription) -> str:
    """The confirmation of a subscription to the weekly picks; while the slot is in UTC,
    it asks for the user's time zone (chat platforms do not tell it)."""
    text = (
        f"Subscribed: every {WEEKDAYS[slot.weekday]} at {slot.hour:02d}:00 ({slot.timezone}), "
        "a few movies a step outside your taste. /unsubscribe stops them."
    )
    if slot.timezone == "UTC":
        text += "\nNot on UTC? Tell me your time zone once, e.g. /subscribe Europe/Berlin"
    return text


def private_chat_needed(command: str, link: str) -> str:
    """How to open the private chat that the answer to ``command`` needs."""
    return (
        f"{PRIVATE_ANSWERS[command]}, and you have not started a private chat with me: "
        f"open {link} and press Start."
    )


def notice(what: Notice, resume: str) -> str:
    """What a user is told once about ``what``; ``resume`` says how to get the weekly
    picks again on their platform."""
    match what:
        case Notice.PICKS_STOPPED:
            return (
                "Your weekly picks stopped: I could not reach you by private message, "
                f"so I unsubscribed you. {resume}"
            )


def resume_by_link(link: str) -> str:
    """How to get the weekly picks again through the link that starts the private chat."""
    return f"To get them again, open {link} and press Start."


RESUME_BY_DIRECT_MESSAGE = (
    "To get them again, allow direct messages from a server we share, then /subscribe."
)


def something_went_wrong(error_id: str) -> str:
    """The answer to a request that failed in a way nobody foresaw."""
    return f"Something went wrong, please try again. (error {error_id})"


def unsubscribed(was_subscribed: bool) -> str:
    """The answer to ``/unsubscribe``."""
    return "Unsubscribed: no more weekly picks." if was_subscribed else "You were not subscribed."


# Movie night ----------------------------------------------------------------------------

NIGHT_IN_GROUPS = "Movie night is for groups: add me to a group and send /movienight there."
NIGHT_IN_CHANNELS = "Movie night is for a server's channel: send /movienight in one."
JOIN_BUTTON = "🙋 I'm in"
START_BUTTON = "▶ Start"
CLOSE_VOTE_BUTTON = "🏁 Close the vote"
WATCHED_BUTTON = "✓ I watched it"
VOTE_QUESTION = "Which one tonight?"
JOINED = "You're in!"
ALREADY_JOINED = "You're in already."
NIGHT_CANCELLED = "Not enough people joined, so this movie night is off. /movienight tries again."
NO_PICKS_FOR_NIGHT = (
    "You joined a movie night, but you have no picks yet, so the group's list comes from "
    "the others' taste. You vote all the same! To count next time, search for a few movies "
    "you like and press 👍 on them."
)


def lobby_text(lobby: Lobby, settings: NightSettings) -> str:
    """The lobby: how to join, who opened it, when it starts, who is in."""
    people = f"{settings.min_members} to {settings.max_members} people"
    minutes = counted(round(settings.start_after / 60), "minute")
    return (
        f"🎬 Movie night! Press “{JOIN_BUTTON}” to join: {people}. It starts when "
        f"{lobby.members[0].name} presses “{START_BUTTON}”, or by itself {minutes} after "
        f"opening.\nIn: {', '.join(member.name for member in lobby.members)}"
    )


def night_started(lobby: Lobby) -> str:
    """What the lobby says once the night started."""
    return f"🎬 Movie night started with {', '.join(member.name for member in lobby.members)}."


def group_list_title(combined: int, members: int) -> str:
    """The title of the group's list: whose tastes made it."""
    if combined == 0:
        return "None of you has picks yet, so here are movies to start with"
    if combined == members:
        return f"Tonight's picks for all {members} of you"
    return f"Tonight's picks, from the taste of the {combined} of you with picks"


def fit_line(pick: GroupPick, names: Sequence[str]) -> str:
    """How a movie fits the members whose tastes made the list (``names``, in the order
    of ``pick.fits``): ``fits 4 of 4``, else whose taste it leans to."""
    if not names or pick.closest is None:
        return ""
    fitted, everyone = len(pick.fitted), len(names)
    if fitted == everyone:
        return f"fits {everyone} of {everyone}"
    leaning = f"leans to {names[pick.closest]}'s taste"
    return f"fits {fitted} of {everyone} · {leaning}" if fitted else leaning


def vote_label(number: int, movie: Movie, limit: int) -> str:
    """An option of the vote: its number and the movie, cut to ``limit`` characters."""
    return shorten(f"{number}. {movie.label}", limit)


def voted(changed: bool, option: int | None) -> str:
    """The answer to a vote."""
    if option is None:
        return "Vote taken back."
    return f"Your vote: {option + 1}." if changed else f"You voted {option + 1} already."


def night_decided(winner: Movie, lobby: Lobby) -> str:
    """The winner, with its votes, and how to mark it watched."""
    counts, votes = lobby.counts(), len(lobby.votes)
    won = counts[lobby.options.index(winner.movie_id)] if winner.movie_id in lobby.options else 0
    tally = f"{won} of {counted(votes, 'vote')}" if votes else "nobody voted, so the best fit wins"
    return (
        f"🏆 Tonight: {winner.label} ({tally}). Enjoy! "
        f"Seen it? Press “{WATCHED_BUTTON}” and it becomes one of your picks."
    )


def vote_closed(winner: Movie) -> str:
    """What the vote's message says once it is closed."""
    return f"The vote is closed: {winner.label} won."


def picks_first_for_others(how: str) -> str:
    """Said in the group when some members without picks could not be told privately;
    ``how`` says where to pick movies on the platform (see below)."""
    return (
        "Some of you have no picks yet, so the list comes from the others' taste; you vote "
        f"all the same. To count next time, {how} and pick a few movies you like."
    )


PICK_BY_SEARCH = "use /search"


def pick_by_link(link: str) -> str:
    """How to pick movies through the link that opens the private chat."""
    return f"open {link}, press Start"


def night_refusal(error: InvalidRequestError) -> str:
    """Why a movie night's button or command was turned down."""
    match error:
        case LobbyGoneError():
            return "This movie night is over. /movienight opens a new one."
        case LobbyStateError(state=LobbyState.OPEN):
            return "The vote has not started yet."
        case LobbyStateError(state=LobbyState.VOTING):
            return "This movie night has started: the vote is on."
        case LobbyStateError(state=LobbyState.DECIDED):
            return "This movie night's vote is closed."
        case LobbyStateError():
            return "This movie night is off. /movienight opens a new one."
        case LobbyFullError(limit=limit):
            return f"This movie night is full: {limit} people."
        case TooFewMembersError(minimum=minimum):
            return f"Wait for others to join: a movie night needs {minimum} people."
        case NotTheOpenerError():
            return "Only the one who opened this movie night can do that."
        case NotAMemberError():
            return "Only those who joined this movie night can do that."
        case UnknownOptionError():
            return "That is not one of the choices."
        case StaleButtonError():
            return "This button is not one of this chat's movie nights."
    return refusal(error)
