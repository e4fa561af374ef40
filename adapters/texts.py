"""What the bot says, worded once for every door in every language it speaks: plain
text, which Telegram escapes as HTML, Discord as markdown, and the console prints as it is.

The core returns outcomes and typed refusals; this module words them with the
:class:`~adapters.i18n.Words` of the user's language. A constant here is a message id
(marked ``N_``), said with ``words.gettext(texts.NAME)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.buttons import ExpiredButtonError, ForeignButtonError, StaleButtonError
from adapters.i18n import N_, NP_, Words
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
    UnknownLanguageError,
    UnknownMovieError,
    UnknownStrategyError,
    UnknownTimeZoneError,
)
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

WEEKDAYS = (
    NP_("weekday", "Monday"),
    NP_("weekday", "Tuesday"),
    NP_("weekday", "Wednesday"),
    NP_("weekday", "Thursday"),
    NP_("weekday", "Friday"),
    NP_("weekday", "Saturday"),
    NP_("weekday", "Sunday"),
)
"""The days of the week from Monday, as ``pgettext("weekday", ...)`` translates them."""
WEEKDAY_ABBREVIATIONS = (
    NP_("weekday abbreviation", "mon"),
    NP_("weekday abbreviation", "tue"),
    NP_("weekday abbreviation", "wed"),
    NP_("weekday abbreviation", "thu"),
    NP_("weekday abbreviation", "fri"),
    NP_("weekday abbreviation", "sat"),
    NP_("weekday abbreviation", "sun"),
)
"""What a user may type for each day, from Monday (also in their own language)."""
EVERY_WEEKDAY = (
    N_("every Monday"),
    N_("every Tuesday"),
    N_("every Wednesday"),
    N_("every Thursday"),
    N_("every Friday"),
    N_("every Saturday"),
    N_("every Sunday"),
)
UNAVAILABLE = N_("I can't reach my memory right now, try again in a minute.")
FULL = N_("My memory is full, so nothing changed; the operator is told. Try again later.")


def unavailable(words: Words, error: Exception) -> str:
    """What a user is told when the profile store or the embedder cannot serve."""
    return words.gettext(FULL if isinstance(error, StoreFullError) else UNAVAILABLE)


BAD_OPTION = N_("I could not read one of the options; /help shows what each command takes.")
SLOW_DOWN = N_("Slow down a little, please: try again in a few seconds.")
TOO_MANY_WAITING = N_(
    "You're sending faster than I can answer, so I skipped some. Slow down, please."
)
NO_PICKS_YET = N_("No picks yet. Search for a movie you like and press 👍.")
FORGET_QUESTION = N_("Delete every pick and your taste? This cannot be undone.")
FORGET_BUTTON = N_("Yes, forget me")
FORGOTTEN_POPUP = N_("Forgotten.")
FORGOTTEN = N_("Done: I forgot every pick and your taste.")
EMPTY_LIST = N_("Nothing found — try other words.")
LESS_LIKE_THIS_BUTTON = N_("👎 less like this")
TOP_GENRES = N_("Top genres")
LAST_PICKS = N_("Last picks")
SEARCH_IN_ENGLISH = N_("I read English best: search by the movie's English title, e.g. Die Hard.")
"""The hint under a search in a script the embedding model does not read."""

PRIVATE_ANSWERS = {
    "profile": N_("Your profile is private, so I show it in our private chat"),
    "subscribe": N_("The weekly picks come by private message"),
}
"""Why a command asked in a group is answered in the private chat, by command."""
SENT_PRIVATELY = {
    "profile": N_("Your profile is private: I sent it to you in our private chat."),
    "subscribe": N_("The weekly picks come by private message: I sent you the details there."),
}
DIRECT_MESSAGES_CLOSED = N_(
    "The weekly picks come by direct message, and yours are closed to me: allow direct "
    "messages from this server's members (the server's Privacy Settings), then /subscribe again."
)

COMMANDS_TITLE = N_("Commands")
SEARCH_RESULTS = N_("Search results")
FOR_YOU = N_("For you")
EXPLORING = N_("Exploring: a step outside your taste")
TO_START_WITH = N_("To start with")
WEEKLY_TITLE = N_("Your weekly picks: a step outside your taste")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
"""Each language in its own words, as a user looks for it."""


@dataclass(frozen=True, slots=True)
class Command:
    """A chat command: its name, what it does, and the arguments of an example call
    (for a platform whose commands take their arguments as typed text); message ids."""

    name: str
    description: str
    example: str = ""


COMMANDS = (
    Command(NP_("command", "start"), N_("what this bot does, and movies to start with")),
    Command(
        NP_("command", "search"),
        N_("find movies by title, plot or mood"),
        NP_("example", "space adventure"),
    ),
    Command(NP_("command", "recommend"), N_("movies for your taste")),
    Command(NP_("command", "similar"), N_("movies like one you name"), NP_("example", "Die Hard")),
    Command(NP_("command", "explore"), N_("a step outside your taste (strength 0-1)"), "0.5"),
    Command(NP_("command", "profile"), N_("what I know about your taste")),
    Command(NP_("command", "undo"), N_("take back your last pick or less-like-this")),
    Command(NP_("command", "forget"), N_("delete everything I know about you")),
    Command(
        NP_("command", "subscribe"),
        N_("weekly exploratory picks by direct message"),
        NP_("example", "fri 18 Europe/Berlin"),
    ),
    Command(NP_("command", "unsubscribe"), N_("stop the weekly picks")),
    Command(NP_("command", "movienight"), N_("one movie for the whole group, by vote")),
    Command(NP_("command", "language"), N_("the language I speak with you"), "ru"),
    Command(NP_("command", "help"), N_("every command")),
)
"""Every chat command, in the order help lists them."""


def described(words: Words, name: str) -> str:
    """What the command ``name`` does."""
    return words.gettext(next(command.description for command in COMMANDS if command.name == name))


def example(words: Words, command: Command) -> str:
    """The arguments of an example call of ``command``."""
    return words.pgettext("example", command.example) if command.example else ""


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


def picks(words: Words, number: int) -> str:
    """``1 pick``, ``2 picks``."""
    return words.ngettext("{count} pick", "{count} picks", number)


def less_like_this(words: Words, number: int) -> str:
    """``1 less-like-this``, ``2 less-like-this``."""
    return words.ngettext("{count} less-like-this", "{count} less-like-this", number)


def pick_result(words: Words, result: PickResult) -> str:
    """The one-line outcome of a pick, a less-like-this or an undo."""
    movie = result.movie.label if result.movie else ""
    match result.outcome:
        case PickOutcome.PICKED:
            return words.gettext("✓ picked: {movie}", movie=movie)
        case PickOutcome.ALREADY_PICKED:
            return words.gettext("already picked: {movie}", movie=movie)
        case PickOutcome.DISLIKED:
            return words.gettext("✗ less like: {movie}", movie=movie)
        case PickOutcome.ALREADY_DISLIKED:
            return words.gettext("already noted: {movie}", movie=movie)
        case PickOutcome.UNDID_PICK:
            return words.gettext("↶ undid pick: {movie}", movie=movie)
        case PickOutcome.UNDID_DISLIKE:
            return words.gettext("↶ undid dislike: {movie}", movie=movie)
        case PickOutcome.ALREADY_UNDONE:
            return words.gettext("already undone")


def reason(words: Words, why: Reason) -> str:
    """Why a movie is suggested, in a few words."""
    match why.kind:
        case ReasonKind.CLOSE_TO_PICK if why.pick is not None:
            closeness = words.gettext("close to {movie}, which you picked", movie=why.pick.label)
        case ReasonKind.PICKED_TOGETHER if why.pick is not None:
            closeness = words.gettext(
                "people who picked {movie} also picked this", movie=why.pick.label
            )
        case ReasonKind.POPULAR:
            closeness = words.gettext("popular with viewers")
        case ReasonKind.CATALOG_CORNER:
            closeness = words.gettext("a starting point from a corner of the catalog")
        case _:
            closeness = words.gettext("close to your taste")
    exploration = why.exploration
    if exploration is None:
        return closeness
    if exploration.strategy is None or exploration.strength is None:
        return words.gettext("exploring: {reason}", reason=closeness)
    strength = f"{exploration.strength:g}"
    return words.gettext(
        "exploring ({strategy} {strength}): {reason}",
        strategy=exploration.strategy,
        strength=strength,
        reason=closeness,
    )


def listed(words: Words, found: Sequence[SearchHit | Recommendation]) -> list[tuple[Movie, str]]:
    """Each movie of a list with the line that says why it is there (none for a search)."""
    return [
        (item.movie, reason(words, item.reason) if isinstance(item, Recommendation) else "")
        for item in found
    ]


class UsageError(InvalidRequestError):
    """Arguments a door cannot read, refused in that door's own words: a message id and
    the values of its fields (``str()`` is the English line, for logs)."""

    def __init__(self, message: str, /, **values: object) -> None:
        super().__init__(message.format(**values) if values else message)
        self.message = message
        self.values = values


def refusal(words: Words, error: InvalidRequestError) -> str:
    """What a user reads when the bot turns a request down."""
    match error:
        case InvalidQueryError():
            return words.gettext("Type a few words to search for, for example: space adventure")
        case UnknownMovieError():
            return words.gettext("That movie is not in the catalog; search again.")
        case NoTasteYetError():
            return words.gettext("Pick a movie you like first; then I can steer away from others.")
        case AlreadyPickedError(movie=movie):
            return words.gettext("{movie} is one of your picks.", movie=movie.label)
        case NothingToUndoError():
            return words.gettext("Nothing to undo.")
        case UnknownStrategyError(strategy=strategy, known=known):
            return words.gettext(
                "Unknown exploration '{strategy}'. Try one of: {known}.",
                strategy=strategy,
                known=", ".join(known),
            )
        case StrengthOutOfRangeError():
            return words.gettext("Strength goes from 0 (your taste) to 1 (far from it).")
        case InvalidSlotError():
            return words.gettext("Choose a day (mon-sun) and an hour (0-23), like: fri 18")
        case UnknownTimeZoneError(timezone=timezone):
            return words.gettext(
                "Unknown time zone '{timezone}'; use a name like Europe/Berlin or UTC.",
                timezone=shorten(timezone, 40),
            )
        case UnknownLanguageError(language=language, known=known):
            return words.gettext(
                "I don't speak '{language}'. Choose one of: {known}.",
                language=shorten(language, 20),
                known=", ".join(known),
            )
        case StaleButtonError():
            return words.gettext("This list is out of date — search again.")
        case ExpiredListError():
            return words.gettext("This list has expired — ask for a new one.")
        case EndOfListError():
            return words.gettext("That's the end of this list.")
        case ExpiredButtonError():
            return words.gettext("This confirmation has expired — send /forget again.")
        case ForeignButtonError():
            return words.gettext("These are someone else's picks — run /search yourself.")
        case UsageError(message=message, values=values):
            return words.gettext(message, **values)
    return words.gettext("That cannot be done; nothing changed.")


def subscribed(words: Words, slot: Subscription) -> str:
    """The confirmation of a subscription to the weekly picks; while the slot is in UTC,
    it asks for the user's time zone (chat platforms do not tell it)."""
    text = words.gettext(
        "Subscribed: {every_day} at {hour:02d}:00 ({timezone}), a few movies a step outside "
        "your taste. /unsubscribe stops them.",
        every_day=words.gettext(EVERY_WEEKDAY[slot.weekday]),
        hour=slot.hour,
        timezone=slot.timezone,
    )
    if slot.timezone == "UTC":
        text += "\n" + words.gettext(
            "Not on UTC? Tell me your time zone once, e.g. /subscribe Europe/Berlin"
        )
    return text


def private_chat_needed(words: Words, command: str, link: str) -> str:
    """How to open the private chat that the answer to ``command`` needs."""
    return words.gettext(
        "{why}, and you have not started a private chat with me: open {link} and press Start.",
        why=words.gettext(PRIVATE_ANSWERS[command]),
        link=link,
    )


def notice(words: Words, what: Notice, resume: str) -> str:
    """What a user is told once about ``what``; ``resume`` says how to get the weekly
    picks again on their platform."""
    match what:
        case Notice.PICKS_STOPPED:
            return words.gettext(
                "Your weekly picks stopped: I could not reach you by private message, "
                "so I unsubscribed you. {resume}",
                resume=resume,
            )


def resume_by_link(words: Words, link: str) -> str:
    """How to get the weekly picks again through the link that starts the private chat."""
    return words.gettext("To get them again, open {link} and press Start.", link=link)


RESUME_BY_DIRECT_MESSAGE = N_(
    "To get them again, allow direct messages from a server we share, then /subscribe."
)


def something_went_wrong(words: Words, error_id: str) -> str:
    """The answer to a request that failed in a way nobody foresaw."""
    return words.gettext("Something went wrong, please try again. (error {id})", id=error_id)


def unsubscribed(words: Words, was_subscribed: bool) -> str:
    """The answer to ``/unsubscribe``."""
    if was_subscribed:
        return words.gettext("Unsubscribed: no more weekly picks.")
    return words.gettext("You were not subscribed.")


def language_chosen(words: Words) -> str:
    """The answer to ``/language <code>``, in the language just chosen."""
    return words.gettext("From now on I speak English with you.")


def language_now(words: Words, known: Sequence[str]) -> str:
    """The answer to ``/language`` without a code: the language spoken and the others."""
    choices = ", ".join(f"{code} ({LANGUAGE_NAMES.get(code, code)})" for code in known)
    return words.gettext(
        "I speak English with you. To change it: /language followed by one of {choices}.",
        choices=choices,
    )
