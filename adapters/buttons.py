"""The signed button payloads that Telegram and Discord carry back when a user presses.

A payload names an action and a movie, and is signed with an HMAC bound to the user
it was sent to and to the index it was made for::

    1p2bq.Ab3_Xk9Lq2Zr0Tc8Wd4N
    |||   |   `- tag: HMAC(secret, version, action, movie, user, fingerprint), 16 chars
    |||   `- owner: HMAC(secret, user), 4 chars, to tell "someone else's" from "stale"
    ||`- movie id in base 36
    |`- action: p pick, d less like this, f confirm forget
    `- format version

It is ASCII and at most 36 characters for any 64-bit movie id: under Telegram's 64-byte
``callback_data`` and Discord's 100-character ``custom_id``. Everything in it is
untrusted until :meth:`ButtonCodec.read` has checked it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidRequestError
from core.models import UserRef

VERSION = "1"
MAX_MOVIE_ID = 2**63 - 1
_OWNER_CHARS = 4
_TAG_CHARS = 16
_PAYLOAD = re.compile(
    rf"(?P<version>\d)(?P<action>[a-z])(?P<movie>[0-9a-z]{{1,13}})\."
    rf"(?P<owner>[A-Za-z0-9_-]{{{_OWNER_CHARS}}})(?P<tag>[A-Za-z0-9_-]{{{_TAG_CHARS}}})",
    re.ASCII,
)


class ButtonAction(StrEnum):
    """What pressing a button asks for."""

    PICK = "p"
    DISLIKE = "d"
    FORGET = "f"


@dataclass(frozen=True, slots=True)
class Button:
    """A verified press: the action and the movie it is about (0 when it has none)."""

    action: ButtonAction
    movie_id: int = 0


class StaleButtonError(InvalidRequestError):
    """The payload is not one this bot signed for this index: forged, cut or outdated."""

    def __init__(self) -> None:
        super().__init__("the button payload is not one of this bot and index")


class ForeignButtonError(InvalidRequestError):
    """The button was sent to another user."""

    def __init__(self) -> None:
        super().__init__("the button was sent to another user")


class ButtonCodec:
    """Writes and checks button payloads for one secret and one index fingerprint."""

    def __init__(self, secret: bytes, fingerprint: str) -> None:
        if len(secret) < 16:
            raise ValueError("the button secret must be at least 16 bytes")
        self._secret = secret
        self._fingerprint = fingerprint

    def write(self, user: UserRef, button: Button) -> str:
        """The payload of ``button`` for ``user``."""
        if not 0 <= button.movie_id <= MAX_MOVIE_ID:
            raise ValueError(f"movie id out of range: {button.movie_id}")
        movie = _base36(button.movie_id)
        tag = self._tag(VERSION, button.action.value, movie, user)
        return f"{VERSION}{button.action.value}{movie}.{self._owner(user)}{tag}"

    def movie_payloads(self, user: UserRef, movie_id: int) -> tuple[str, str]:
        """The payloads of the pick and the less-like-this button of a movie."""
        pick = self.write(user, Button(ButtonAction.PICK, movie_id))
        return pick, self.write(user, Button(ButtonAction.DISLIKE, movie_id))

    def read(self, user: UserRef, payload: str | bytes) -> Button:
        """The button that ``user`` pressed, if this codec signed it for them.

        Raises:
            ForeignButtonError: the payload was made for another user.
            StaleButtonError: anything else that is not a valid payload of this index.
        """
        text = payload.decode("ascii", "replace") if isinstance(payload, bytes) else payload
        match = _PAYLOAD.fullmatch(text)
        if match is None or match["version"] != VERSION:
            raise StaleButtonError()
        if not hmac.compare_digest(match["owner"], self._owner(user)):
            raise ForeignButtonError()
        expected = self._tag(match["version"], match["action"], match["movie"], user)
        if not hmac.compare_digest(match["tag"], expected):
            raise StaleButtonError()
        try:
            return Button(ButtonAction(match["action"]), int(match["movie"], 36))
        except ValueError:
            raise StaleButtonError() from None

    def _owner(self, user: UserRef) -> str:
        return _mac(self._secret, "owner", user.platform, user.user_id)[:_OWNER_CHARS]

    def _tag(self, version: str, action: str, movie: str, user: UserRef) -> str:
        parts = (version, action, movie, user.platform, user.user_id, self._fingerprint)
        return _mac(self._secret, "button", *parts)[:_TAG_CHARS]


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
