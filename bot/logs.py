"""Logging of the running bot: one line per record, quiet HTTP clients, secrets masked."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.config import Settings

MASK = "<secret>"
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class SecretsFilter(logging.Filter):
    """Replaces every given secret by ``<secret>`` in a record's message and traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._masked(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._masked(record.exc_text)
        return True

    def _masked(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


def configure_logging(settings: Settings) -> None:
    """INFO to stderr, with the bot tokens, the button secret and the Redis URL masked.

    httpx logs every request URL, and a Telegram URL holds the token: it is kept at
    WARNING as well.
    """
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.telegram.token,
            settings.discord.token,
            settings.buttons.secret,
            settings.redis.url,
        )
        if secret is not None
    ]
    for handler in logging.getLogger().handlers:
        handler.addFilter(SecretsFilter(secrets))
