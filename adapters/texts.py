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
    EndOfListError,
    ExpiredListError,
    InvalidQueryError,
    InvalidRequestError,
    InvalidSlotError,
    NoTasteYetError,
    NothingToUndoError,
    StoreFullError,
    StrengthOutOfRangeError,
    UnknownMovieError,
    UnknownStrategyError,
    UnknownTimeZoneError,
)
from core.models import (
    ListKind,
    Movie,
    Notice,
    Page,
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
MORE_BUTTON = "more ▸"
BACK_BUTTON = "◂ back"
LIKE_THIS_BUTTON = "🔎 like this"
FIND_LIKE_THIS_BUTTON = "🔎 find movies like this"
SIMILAR_USAGE = "Name a movie, like /similar Die Hard"
SIMILAR_TITLE_HINT = "A movie you like, e.g. Die Hard"
SMALL_VOTE_COUNT = 100
"""Below this many votes a rating says how many it rests on."""


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
    Command("similar", "movies like one you name", "Die Hard"),
    Command("explore", "a step outside your taste (strength 0-1)", "0.5"),
    Command("profile", "what I know about your taste"),
    Command("undo", "take back your last pick or less-like-this"),
    Command("forget", "delete everything I know about you"),
    Command("subscribe", "weekly exploratory picks by direct message", "fri 18 Europe/Berlin"),
    Command("unsubscribe", "stop the weekly picks"),
    Command("help", "every command"),
)
"""Every chat command, in the order help lists them."""


def described(name: str) -> str:
    """What the command ``name`` does."""
    return next(command.description for command in COMMANDS if command.name == name)


def like(movie: Movie) -> str:
    """The title of the list of movies like ``movie``."""
    return f"Like {movie.label}"


def list_title(page: Page) -> str:
    """The title of a page of a list: what the list is, and where the page is in it
    after the first."""
    match page.kind:
        case ListKind.SEARCH:
            title = SEARCH_RESULTS
        case ListKind.RECOMMENDED:
            title = FOR_YOU
        case ListKind.EXPLORED:
            title = EXPLORING
        case ListKind.SIMILAR:
            title = like(page.about) if page.about else "Like that movie"
    if page.offset == 0 or not page.items:
        return title
    return f"{title}, {page.offset + 1}-{page.offset + len(page.items)} of {page.total}"


def rating(movie: Movie) -> str:
    """``★ 7.5``, with the number of votes when it is small: ``★ 6.1 (42 votes)``; nothing
    when the catalog has no rating or no vote for the movie."""
    if movie.vote_average is None or movie.vote_count == 0:
        return ""
    stars = f"★ {movie.vote_average:.1f}"
    if movie.vote_count is not None and movie.vote_count < SMALL_VOTE_COUNT:
        return f"{stars} ({counted(movie.vote_count, 'vote')})"
    return stars


def runtime(minutes: int | None) -> str:
    """``2h 11m``, ``45m``; nothing when unknown."""
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest:02d}m" if hours else f"{rest}m"


def facts(movie: Movie) -> str:
    """What a card says of a movie besides its title: ``★ 7.5 · 2h 11m``."""
    return " · ".join(part for part in (rating(movie), runtime(movie.runtime)) if part)


def movie_page_button(site: str) -> str:
    """The label of the button that opens a movie's page on ``site``."""
    return f"{site} ↗"


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
        case ExpiredListError():
            return "This list has expired — ask for a new one."
        case EndOfListError():
            return "That's the end of this list."
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
