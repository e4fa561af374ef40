"""The weekly picks by direct message on Discord."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import aiohttp
import discord

from adapters import texts
from adapters.buttons import ButtonCodec
from adapters.discord import render
from adapters.i18n import words
from adapters.services import stored_language
from core.languages import Languages
from core.models import Delivery, Recommendation, UserRef

log = logging.getLogger(__name__)
CANNOT_MESSAGE_USER = 50007
UNKNOWN_USER = 10013
NONCE_LENGTH = 25


class DiscordNotifier:
    """DMs a user their picks, in their stored language; a user whose DMs are closed is
    reported ``GONE``.

    Rate limits (429) are waited out by discord.py itself before a call returns. Each
    push carries a nonce that Discord enforces: a push retried within minutes (after a
    crash between sending and recording it) shows once.
    """

    platform = "discord"

    def __init__(self, client: discord.Client, codec: ButtonCodec, languages: Languages) -> None:
        self._client = client
        self._codec = codec
        self._languages = languages

    async def send_picks(
        self, user: UserRef, picks: Sequence[Recommendation], key: str
    ) -> Delivery:
        """DM ``picks`` with buttons: ``SENT``, ``GONE`` or ``FAILED``."""
        said = words(await stored_language(self._languages, user))
        reply = render.movie_list(said, texts.WEEKLY_TITLE, picks, user, self._codec)
        try:
            channel = await self._client.create_dm(discord.Object(int(user.user_id)))
            await channel.send(**reply.message(), nonce=nonce(key))
        except (discord.Forbidden, discord.NotFound) as error:
            if error.code in (CANNOT_MESSAGE_USER, UNKNOWN_USER):
                return Delivery.GONE
            log.warning("Discord refused the weekly picks of %s: %s", user.key, error)
            return Delivery.FAILED
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as error:
            log.warning("could not send the weekly picks of %s: %s", user.key, error)
            return Delivery.FAILED
        return Delivery.SENT


def nonce(key: str) -> str:
    """Discord's nonce (25 characters at most) for the push ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_LENGTH]
