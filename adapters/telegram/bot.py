"""The Telegram Application: handlers registered, commands published, rate limits kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from adapters import texts
from adapters.i18n import LANGUAGES, SOURCE_LANGUAGE, words
from adapters.telegram.flow import MAX_WAITING, OneUpdatePerUser, ResendingRateLimiter
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.movienight import TelegramMovieNight
from adapters.telegram.webhook import Webhook, receiving
from core.errors import RefusedTokenError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
LIMIT_GROUP = -1  # handlers of a lower group run first; the rate limit stops the rest
REFUSED_TOKEN = "Telegram refused the token from MOVIEBOT_TELEGRAM_TOKEN"
READY_TIMEOUT = 2.0
log = logging.getLogger(__name__)


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
        "similar": handlers.similar,
        "explore": handlers.explore,
        "profile": handlers.profile,
        "undo": handlers.undo,
        "forget": handlers.forget,
        "subscribe": handlers.subscribe,
        "unsubscribe": handlers.unsubscribe,
        "language": handlers.language,
    }
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    limited_commands = [*commands, *(["movienight"] if night else [])]
    for limited in (
        CommandHandler(limited_commands, handlers.limit),
        MessageHandler(private_text, handlers.limit),
        CallbackQueryHandler(handlers.limit),
        InlineQueryHandler(handlers.limit),
    ):
        application.add_handler(limited, group=LIMIT_GROUP)
    application.add_handlers(night.handlers() if night else [])
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(MessageHandler(private_text, handlers.text))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(InlineQueryHandler(handlers.inline))
    application.add_error_handler(handlers.error)
    return application


def command_list(language: str) -> list[BotCommand]:
    """The commands with their descriptions in ``language``, as Telegram lists them."""
    said = words(language)
    return [
        BotCommand(command.name, texts.described(said, command.name)) for command in texts.COMMANDS
    ]


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


async def connection_problem(application: Application) -> str | None:  # type: ignore[type-arg]
    """``None`` while the application runs and Telegram answers a getMe; else a short
    reason (the error goes to the log)."""
    if not application.running:
        return "telegram not connected"
    try:
        # Bounded as a whole: the rate limiter resends a getMe that failed, with pauses.
        await asyncio.wait_for(application.bot.get_me(), READY_TIMEOUT)
    except (TelegramError, TimeoutError) as error:
        log.warning("not ready: Telegram did not answer getMe: %r", error)
        return "telegram not reachable"
    return None


@asynccontextmanager
async def serving(
    application: Application,  # type: ignore[type-arg]
    webhook: Webhook | None = None,
    poll_timeout: int = 10,
) -> AsyncIterator[None]:
    """Publish the commands (setMyCommands, once per language: Telegram shows a user the
    list of their app's language), then answer updates until the block ends:
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
        for language in LANGUAGES:
            code = None if language == SOURCE_LANGUAGE else language
            await application.bot.set_my_commands(command_list(language), language_code=code)
        await application.start()
        try:
            async with _updates(application, webhook, poll_timeout):
                yield
        finally:
            await application.stop()


@asynccontextmanager
async def _updates(
    application: Application,  # type: ignore[type-arg]
    webhook: Webhook | None,
    poll_timeout: int,
) -> AsyncIterator[None]:
    """Updates into the application's queue while the block runs: from the webhook, or
    by long polling."""
    if webhook is not None:
        async with receiving(application, webhook):
            yield
        return
    updater = application.updater
    assert updater is not None
    await updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
    try:
        yield
    finally:
        await updater.stop()
