"""Typed errors the core raises.

A refusal (:class:`InvalidRequestError`) is one subclass per reason, carrying what its
wording needs: the adapters word it for the user, and its ``str()`` is an English line
for logs. The other errors are for the operator: their text is shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.lobbies import LobbyState
from core.models import Movie


class MovieBotError(Exception):
    """Base of every error the core raises on purpose."""


class CatalogError(MovieBotError):
    """A catalog source is missing, unreachable or not a movie table."""


class EmbedderError(MovieBotError):
    """The embedding model cannot be loaded or reached."""


class IndexFileError(MovieBotError):
    """An index directory is missing, corrupt, or built for another embedder."""


class StoreUnavailableError(MovieBotError):
    """The profile store cannot be reached in time; the request may be retried later."""


class StoreFullError(StoreUnavailableError):
    """The profile store is at its memory limit and refuses writes; nothing was written."""


class RefusedTokenError(MovieBotError):
    """A chat platform refused the bot's token; its text names the variable, never the
    token."""


class InvalidRequestError(MovieBotError):
    """A user asked for something that cannot be done; nothing was changed."""


class InvalidQueryError(InvalidRequestError):
    """A user's search text cannot be searched: nothing is left once it is cleaned."""

    def __init__(self) -> None:
        super().__init__("nothing searchable is left of the query")


class UnknownMovieError(InvalidRequestError):
    """No movie of the catalog has this id."""

    def __init__(self, movie_id: int) -> None:
        super().__init__(f"movie {movie_id} is not in the catalog")
        self.movie_id = movie_id


class NoTasteYetError(InvalidRequestError):
    """ "Less like this" before any pick: there is no taste to steer away from yet."""

    def __init__(self) -> None:
        super().__init__("less-like-this needs a taste, and the user has no pick yet")


class AlreadyPickedError(InvalidRequestError):
    """ "Less like this" of a movie the user picked."""

    def __init__(self, movie: Movie) -> None:
        super().__init__(f"movie {movie.movie_id} is a pick of the user")
        self.movie = movie


class NothingToUndoError(InvalidRequestError):
    """Undo with an empty undo history."""

    def __init__(self) -> None:
        super().__init__("the undo history is empty")


class UnknownStrategyError(InvalidRequestError):
    """An exploration strategy of another name than the ``known`` ones."""

    def __init__(self, strategy: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown exploration strategy {strategy!r}")
        self.strategy = strategy
        self.known = tuple(known)


class StrengthOutOfRangeError(InvalidRequestError):
    """An exploration strength outside [0, 1]."""

    def __init__(self, strength: float) -> None:
        super().__init__(f"exploration strength {strength} is outside [0, 1]")
        self.strength = strength


class InvalidSlotError(InvalidRequestError):
    """A weekly slot with a weekday outside 0-6 or an hour outside 0-23."""

    def __init__(self, weekday: int, hour: int) -> None:
        super().__init__(f"no weekly slot on weekday {weekday} at hour {hour}")
        self.weekday = weekday
        self.hour = hour


class UnknownTimeZoneError(InvalidRequestError):
    """A time zone that is not an IANA name this machine knows."""

    def __init__(self, timezone: str) -> None:
        super().__init__(f"unknown time zone {timezone!r}")
        self.timezone = timezone


class ExpiredListError(InvalidRequestError):
    """A page of a list that is no longer kept (too old, or the user's newer lists
    replaced it)."""

    def __init__(self) -> None:
        super().__init__("the list is no longer kept")


class EndOfListError(InvalidRequestError):
    """A page outside the list: past its end, or before its start."""

    def __init__(self, offset: int, total: int) -> None:
        super().__init__(f"no page at {offset} of a list of {total}")
        self.offset = offset
        self.total = total


class UnknownLanguageError(InvalidRequestError):
    """A language the bot does not speak; ``known`` are those it does."""

    def __init__(self, language: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown language {language!r}")
        self.language = language
        self.known = tuple(known)


class LobbyGoneError(InvalidRequestError):
    """No movie night has this id in this chat: it expired, or never was."""

    def __init__(self, lobby_id: str) -> None:
        super().__init__(f"no movie night {lobby_id!r} in this chat")
        self.lobby_id = lobby_id


class LobbyStateError(InvalidRequestError):
    """The movie night is past (or not yet at) the step the request is for."""

    def __init__(self, state: LobbyState) -> None:
        super().__init__(f"the movie night is {state.value}")
        self.state = state


class LobbyFullError(InvalidRequestError):
    """The movie night has as many members as it may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the movie night has its {limit} members")
        self.limit = limit


class TooFewMembersError(InvalidRequestError):
    """Starting a movie night before enough members joined."""

    def __init__(self, count: int, minimum: int) -> None:
        super().__init__(f"{count} members; a movie night starts with {minimum}")
        self.count = count
        self.minimum = minimum


class NotTheOpenerError(InvalidRequestError):
    """Only the member who opened the movie night may start it or close its vote."""

    def __init__(self) -> None:
        super().__init__("only the opener may do this")


class NotAMemberError(InvalidRequestError):
    """Voting, or marking the winner watched, without having joined."""

    def __init__(self) -> None:
        super().__init__("the user did not join this movie night")


class UnknownOptionError(InvalidRequestError):
    """A vote for an option the movie night does not have."""

    def __init__(self, option: int) -> None:
        super().__init__(f"the movie night has no option {option}")
        self.option = option
