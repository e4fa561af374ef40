"""The Telegram Application: handlers registered, commands published, rate limits kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand
from telegram.error import InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from adapters import texts
from adapters.telegram.flow import MAX_WAITING, OneUpdatePerUser, ResendingRateLimiter
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.movienight import TelegramMovieNight
from core.errors import RefusedTokenError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
LIMIT_GROUP = -1  # handlers of a lower group run first; the rate limit stops the rest
REFUSED_TOKEN = "Telegram refused the token from MOVIEBOT_TELEGRAM_TOKEN"


def build_application(
    token: str,
    handlers: TelegramHandlers,
    base_url: str | None = None,
    max_waiting: int = MAX_WAITING,
    night: TelegramMovieNight | None = None,
) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot Application with every moviebot handler (and movie night's,
    when ``night`` is given): users answered concurrently, each user's updates in order
    (at most ``max_waiting`` of them waiting), every command and button within the
    user's rate limit."""
    processor = OneUpdatePerUser(max_waiting=max_waiting, on_dropped=handlers.dropped)
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(ResendingRateLimiter(max_retries=3))
        .concurrent_updates(processor)
    )
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    commands = {
        "start": handlers.start,
        "help": handlers.help,
        "search": handlers.search,
        "recommend": handlers.recommend,
        "explore": handlers.explore,
        "profile": handlers.profile,
        "undo": handlers.undo,
        "forget": handlers.forget,
        "subscribe": handlers.subscribe,
        "unsubscribe": handlers.unsubscribe,
    }
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    limited_commands = [*commands, *(["movienight"] if night else [])]
    for limited in (
        CommandHandler(limited_commands, handlers.limit),
        MessageHandler(private_text, handlers.limit),
        CallbackQueryHandler(handlers.limit),
    ):
        application.add_handler(limited, group=LIMIT_GROUP)
    application.add_handlers(night.handlers() if night else [])
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(MessageHandler(private_text, handlers.text))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_error_handler(handlers.error)
    return application


@asynccontextmanager
async def sending_bot(token: str, base_url: str | None = None) -> AsyncIterator[ExtBot[Any]]:
    """A bot that only sends (no updates), with the same flood control as the running
    one, open while the block runs.

    Raises:
        RefusedTokenError: Telegram refused the token.
    """
    limiter = ResendingRateLimiter(max_retries=3)
    bot = ExtBot(token, base_url or DEFAULT_BASE_URL, rate_limiter=limiter)
    try:
        await bot.initialize()
    except InvalidToken:
        raise RefusedTokenError(REFUSED_TOKEN) from None
    async with bot:
        yield bot


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates, where the bot listens, and the header it must send."""

    url: str
    listen: str
    port: int
    secret_token: str


@asynccontextmanager
async def serving(
    application: Application,  # type: ignore[type-arg]
    webhook: Webhook | None = None,
    poll_timeout: int = 10,
) -> AsyncIterator[None]:
    """Publish the commands (setMyCommands), then answer updates until the block ends:
    by webhook when one is given (updates without its secret header are refused), else
    by long polling.

    Raises:
        RefusedTokenError: Telegram refused the token (python-telegram-bot's own error
            quotes it, so it is not passed on).
    """
    try:
        await application.initialize()
    except InvalidToken:
        raise RefusedTokenError(REFUSED_TOKEN) from None
    async with application:
        commands = [BotCommand(command.name, command.description) for command in texts.COMMANDS]
        await application.bot.set_my_commands(commands)
        await application.start()
        updater = application.updater
        assert updater is not None
        if webhook is None:
            await updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        else:
            await updater.start_webhook(
                listen=webhook.listen,
                port=webhook.port,
                url_path=urlsplit(webhook.url).path.lstrip("/"),
                webhook_url=webhook.url,
                secret_token=webhook.secret_token,
            )
        try:
            yield
        finally:
            await updater.stop()
            await application.stop()
