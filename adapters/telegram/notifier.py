"""The weekly picks as a Telegram message."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters import texts
from adapters.buttons import ButtonCodec
from adapters.i18n import words
from adapters.services import stored_language
from adapters.telegram import render
from core.languages import Languages
from core.models import Delivery, Recommendation, UserRef

log = logging.getLogger(__name__)


class TelegramNotifier:
    """Sends a user their picks in their private chat with the bot; a user who blocked
    the bot (or never started it) is reported ``GONE``. The picks speak the user's stored
    language (English while the store does not answer).

    Flood control (429) is waited out by the bot's rate limiter before a call returns.
    Telegram has no idempotency key: a push retried after a crash may arrive twice.
    """

    platform = "telegram"

    def __init__(self, bot: Bot, codec: ButtonCodec, languages: Languages) -> None:
        self._bot = bot
        self._codec = codec
        self._languages = languages

    async def send_picks(
        self, user: UserRef, picks: Sequence[Recommendation], key: str
    ) -> Delivery:
        """Send ``picks`` with buttons: ``SENT``, ``GONE`` or ``FAILED``."""
        said = words(await stored_language(self._languages, user))
        reply = render.movie_list(said, texts.WEEKLY_TITLE, picks, user, self._codec)
        try:
            await self._bot.send_message(
                int(user.user_id), reply.text, parse_mode="HTML", reply_markup=reply.keyboard
            )
        except Forbidden:
            return Delivery.GONE
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                return Delivery.GONE
            log.warning("Telegram refused the weekly picks of %s: %s", user.key, error)
            return Delivery.FAILED
        except TelegramError as error:
            log.warning("could not send the weekly picks of %s: %s", user.key, error)
            return Delivery.FAILED
        return Delivery.SENT
