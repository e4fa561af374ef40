"""The signed button payloads that Telegram and Discord carry back when a user presses.

A payload names an action and a movie, and is signed with an HMAC bound to the user
it was sent to and to the index it was made for::

    2p2bq.KAb3_Xk9Lq2Zr0Tc8Wd4N
    |||   ||   `- tag: HMAC(key, version, action, movie, user, fingerprint), 16 chars
    |||   |`- owner: HMAC(key, user), 4 chars, to tell "someone else's" from "stale"
    |||   `- key id: which key signed it, 1 char
    ||`- movie id in base 36 (for "confirm forget": the minute it was sent; for a page:
    ||   the list id times 64 plus the offset)
    |`- action: p pick, d less like this, f confirm forget, l movies like this one,
    |   m a page of a kept list ("more", "back")
    `- format version

The key is derived from ``MOVIEBOT_SECRET`` (an HMAC of it under a label of its own, so
no other use of the secret shares it). Keys of previous secrets still read the buttons
they signed, so rotating the secret outdates no button. A "confirm forget" button
expires ``FORGET_MINUTES`` after it was sent.

It is ASCII and at most 37 characters for any 64-bit movie id (a page's number is below
2**54): under Telegram's 64-byte ``callback_data`` and Discord's 100-character
``custom_id``. Everything in it is untrusted until :meth:`ButtonCodec.read` has
checked it.

A movie night's buttons are pressed by anyone in its group, so they are bound to the
group chat instead of a user::

    njk3x9a2.0KAb3_Xk9Lq2Zr0Tc8Wd4N
    |||     | |`- tag: HMAC(key, action, lobby, option, chat), 16 chars
    |||     | `- key id, 1 char
    |||     `- option of a vote (0 for the other actions)
    ||`- lobby id in base 36
    |`- action: j join, s start, v vote, c close the vote, w watched
    `- "n": a movie night's payload

A payload copied into another chat, or cut, is refused; one of a night that has moved
on is valid, and the night itself turns it down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidRequestError
from core.lobbies import ChatRef
from core.models import LIST_ID_BITS, Page, UserRef

VERSION = "2"
MAX_MOVIE_ID = 2**63 - 1
OFFSET_BITS = 6
MAX_OFFSET = 2**OFFSET_BITS - 1
MAX_LIST_ID = 2**LIST_ID_BITS - 1
FORGET_MINUTES = 10
MIN_SECRET_BYTES = 16
_OWNER_CHARS = 4
_TAG_CHARS = 16
_PAYLOAD = re.compile(
    rf"(?P<version>\d)(?P<action>[a-z])(?P<movie>[0-9a-z]{{1,13}})\."
    rf"(?P<key>[A-Za-z0-9_-])(?P<owner>[A-Za-z0-9_-]{{{_OWNER_CHARS}}})(?P<tag>[A-Za-z0-9_-]{{{_TAG_CHARS}}})",
    re.ASCII,
)
NIGHT_PREFIX = "n"
_NIGHT_PAYLOAD = re.compile(
    rf"{NIGHT_PREFIX}(?P<action>[a-z])(?P<lobby>[0-9a-z]{{1,13}})\.(?P<option>[0-9])"
    rf"(?P<key>[A-Za-z0-9_-])(?P<tag>[A-Za-z0-9_-]{{{_TAG_CHARS}}})",
    re.ASCII,
)


class ButtonAction(StrEnum):
    """What pressing a button asks for."""

    PICK = "p"
    DISLIKE = "d"
    FORGET = "f"
    SIMILAR = "l"
    PAGE = "m"


@dataclass(frozen=True, slots=True)
class Button:
    """A verified press: the action and the movie it is about (0 when it has none); a
    page names the kept list and where its page starts."""

    action: ButtonAction
    movie_id: int = 0
    list_id: int = 0
    offset: int = 0


class NightAction(StrEnum):
    """What pressing a movie night's button asks for."""

    JOIN = "j"
    START = "s"
    VOTE = "v"
    CLOSE = "c"
    WATCHED = "w"


@dataclass(frozen=True, slots=True)
class NightButton:
    """A verified press on a movie night's message: the action, the lobby, and the
    option of a vote (0 for the other actions)."""

    action: NightAction
    lobby_id: str
    option: int = 0


class StaleButtonError(InvalidRequestError):
    """The payload is not one this bot signed for this index: forged, cut or outdated."""

    def __init__(self) -> None:
        super().__init__("the button payload is not one of this bot and index")


class ExpiredButtonError(InvalidRequestError):
    """A confirmation button pressed after it expired."""

    def __init__(self) -> None:
        super().__init__("the confirmation button has expired")


class ForeignButtonError(InvalidRequestError):
    """The button was sent to another user."""

    def __init__(self) -> None:
        super().__init__("the button was sent to another user")


class ButtonCodec:
    """Writes and checks button payloads for one secret and one index fingerprint; the
    keys of ``previous`` secrets still read what they signed."""

    def __init__(
        self,
        secret: bytes,
        fingerprint: str,
        previous: Sequence[bytes] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if any(len(key) < MIN_SECRET_BYTES for key in (secret, *previous)):
            raise ValueError(f"a button secret must be at least {MIN_SECRET_BYTES} bytes")
        self._key = _Key(derived_key(secret, "buttons"))
        self._readers = (self._key, *(_Key(derived_key(key, "buttons")) for key in previous))
        self._fingerprint = fingerprint
        self._clock = clock

    def write(self, user: UserRef, button: Button) -> str:
        """The payload of ``button`` for ``user``."""
        movie, key = _base36(self._number(button)), self._key
        tag = self._tag(key, VERSION, button.action.value, movie, user)
        return f"{VERSION}{button.action.value}{movie}.{key.id}{self._owner(key, user)}{tag}"

    def movie_payloads(self, user: UserRef, movie_id: int) -> tuple[str, str]:
        """The payloads of the pick and the less-like-this button of a movie."""
        pick = self.write(user, Button(ButtonAction.PICK, movie_id))
        return pick, self.write(user, Button(ButtonAction.DISLIKE, movie_id))

    def page_payloads(self, user: UserRef, page: Page) -> tuple[str | None, str | None]:
        """The payloads of the "back" and the "more" button of a page of a kept list,
        ``None`` where there is no page to go to."""
        list_id = page.list_id
        if list_id is None:
            return None, None

        def to(offset: int | None) -> str | None:
            button = Button(ButtonAction.PAGE, list_id=list_id, offset=offset or 0)
            return None if offset is None else self.write(user, button)

        return to(page.previous_offset), to(page.next_offset)

    def read(self, user: UserRef, payload: str | bytes) -> Button:
        """The button that ``user`` pressed, if one of this codec's keys signed it for them.

        Raises:
            ForeignButtonError: the payload was made for another user.
            ExpiredButtonError: a "confirm forget" pressed after ``FORGET_MINUTES``.
            StaleButtonError: anything else that is not a valid payload of this index.
        """
        text = payload.decode("ascii", "replace") if isinstance(payload, bytes) else payload
        match = _PAYLOAD.fullmatch(text)
        if match is None or match["version"] != VERSION:
            raise StaleButtonError()
        keys = [key for key in self._readers if key.id == match["key"]]
        if keys and not any(
            hmac.compare_digest(match["owner"], self._owner(key, user)) for key in keys
        ):
            raise ForeignButtonError()
        parts = (match["version"], match["action"], match["movie"], user)
        if not any(hmac.compare_digest(match["tag"], self._tag(key, *parts)) for key in keys):
            raise StaleButtonError()
        try:
            action, number = ButtonAction(match["action"]), int(match["movie"], 36)
        except ValueError:
            raise StaleButtonError() from None
        match action:
            case ButtonAction.FORGET:
                if not 0 <= self._minute() - number <= FORGET_MINUTES:
                    raise ExpiredButtonError()
                return Button(ButtonAction.FORGET)
            case ButtonAction.PAGE:
                return Button(action, list_id=number >> OFFSET_BITS, offset=number & MAX_OFFSET)
        return Button(action, number)

    def _number(self, button: Button) -> int:
        """The number a payload carries for ``button``."""
        match button.action:
            case ButtonAction.FORGET:
                return self._minute()
            case ButtonAction.PAGE:
                if not (0 <= button.list_id <= MAX_LIST_ID and 0 <= button.offset <= MAX_OFFSET):
                    raise ValueError(f"no page payload for {button}")
                return button.list_id << OFFSET_BITS | button.offset
        if not 0 <= button.movie_id <= MAX_MOVIE_ID:
            raise ValueError(f"movie id out of range: {button.movie_id}")
        return button.movie_id

    def write_night(self, chat: ChatRef, button: NightButton) -> str:
        """The payload of a movie night's ``button`` in the group ``chat``."""
        payload = f"{NIGHT_PREFIX}{button.action.value}{button.lobby_id}.{button.option}"
        key = self._key
        tag = self._night_tag(key, button.action.value, button.lobby_id, str(button.option), chat)
        written = f"{payload}{key.id}{tag}"
        if _NIGHT_PAYLOAD.fullmatch(written) is None:
            raise ValueError(f"not a movie night button: {button}")
        return written

    def read_night(self, chat: ChatRef, payload: str | bytes) -> NightButton:
        """The movie night's button pressed in ``chat``, if one of this codec's keys signed
        it for that chat.

        Raises:
            StaleButtonError: anything else: forged, cut, or copied from another chat.
        """
        text = payload.decode("ascii", "replace") if isinstance(payload, bytes) else payload
        match = _NIGHT_PAYLOAD.fullmatch(text)
        if match is None:
            raise StaleButtonError()
        parts = (match["action"], match["lobby"], match["option"], chat)
        keys = [key for key in self._readers if key.id == match["key"]]
        if not any(hmac.compare_digest(match["tag"], self._night_tag(key, *parts)) for key in keys):
            raise StaleButtonError()
        try:
            action = NightAction(match["action"])
        except ValueError:
            raise StaleButtonError() from None
        return NightButton(action, match["lobby"], int(match["option"]))

    @staticmethod
    def _night_tag(key: _Key, action: str, lobby: str, option: str, chat: ChatRef) -> str:
        parts = (action, lobby, option, chat.platform, chat.chat_id)
        return _mac(key.secret, "night", *parts)[:_TAG_CHARS]

    def _minute(self) -> int:
        return int(self._clock() // 60)

    @staticmethod
    def _owner(key: _Key, user: UserRef) -> str:
        return _mac(key.secret, "owner", user.platform, user.user_id)[:_OWNER_CHARS]

    def _tag(self, key: _Key, version: str, action: str, movie: str, user: UserRef) -> str:
        parts = (version, action, movie, user.platform, user.user_id, self._fingerprint)
        return _mac(key.secret, "button", *parts)[:_TAG_CHARS]


@dataclass(frozen=True, slots=True)
class _Key:
    """A signing key and the one character that names it in a payload."""

    secret: bytes

    @property
    def id(self) -> str:
        return _mac(self.secret, "key id")[0]


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A key of its own for each use of the one configured secret: HMAC-SHA256 of the
    secret over ``moviebot/<purpose>``."""
    return hmac.new(secret, f"moviebot/{purpose}".encode(), hashlib.sha256).digest()


def _mac(secret: bytes, *parts: str) -> str:
    """URL-safe base64 of an HMAC-SHA256 over length-prefixed parts (so none can blur
    into its neighbour)."""
    message = "".join(f"{len(part)}:{part}" for part in parts).encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if number == 0:
            return text
