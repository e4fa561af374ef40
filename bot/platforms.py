"""The chat platforms as the running program serves them: each one while a context is
open, yielding what the rest of the program needs of it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from pydantic import SecretStr

from adapters.buttons import ButtonCodec, derived_key
from adapters.discord.bot import MovieBot, gateway_problem, rest_client
from adapters.discord.bot import serving as discord_serving
from adapters.discord.cog import MovieCommands
from adapters.discord.movienight import MovieNightCommands
from adapters.discord.notifier import DiscordNotifier
from adapters.services import ChatServices
from adapters.telegram.bot import build_application, connection_problem, sending_bot
from adapters.telegram.bot import serving as telegram_serving
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.movienight import TelegramMovieNight
from adapters.telegram.notifier import TelegramNotifier
from adapters.telegram.webhook import Webhook
from bot.config import Platform, Settings
from bot.observability import Check
from bot.ticking import ticking
from core.errors import MovieBotError
from core.languages import Languages
from core.movienight import MovieNights
from core.ports import Notifier

NIGHTS_CHECKED_EVERY = 5.0  # seconds: how late a movie night may start or close by itself


@dataclass(frozen=True, slots=True)
class ServedPlatform:
    """A platform being served: the notifier of its weekly picks, and whether its
    connection is up (for ``/readyz``)."""

    notifier: Notifier
    problem: Check


@asynccontextmanager
async def telegram(
    settings: Settings, services: ChatServices, nights: MovieNights
) -> AsyncIterator[ServedPlatform]:
    """Telegram, by webhook or long polling, with its movie nights moved on when due,
    while the context is open."""
    token = _token(settings.telegram.token, "MOVIEBOT_TELEGRAM_TOKEN")
    night = TelegramMovieNight(services, nights)
    application = build_application(
        token,
        TelegramHandlers(services),
        settings.telegram.base_url,
        settings.telegram.max_waiting_updates,
        night,
    )
    due = ticking(lambda: night.run_due(application.bot), NIGHTS_CHECKED_EVERY, "movie nights")
    async with telegram_serving(application, telegram_webhook(settings)), due:
        notifier = TelegramNotifier(application.bot, services.codec, services.languages)
        yield ServedPlatform(notifier, lambda: connection_problem(application))


@asynccontextmanager
async def discord(
    settings: Settings, services: ChatServices, nights: MovieNights
) -> AsyncIterator[ServedPlatform]:
    """Discord, on the gateway, with its movie nights moved on when due, while the
    context is open."""
    token = _token(settings.discord.token, "MOVIEBOT_DISCORD_TOKEN")
    night = MovieNightCommands(services, nights)
    bot = MovieBot(MovieCommands(services), settings.discord.guild_id, night=night)
    due = ticking(lambda: night.run_due(bot), NIGHTS_CHECKED_EVERY, "movie nights")
    async with discord_serving(bot, token), due:
        notifier = DiscordNotifier(bot, services.codec, services.languages)
        yield ServedPlatform(notifier, lambda: gateway_problem(bot))


PLATFORMS = {Platform.telegram: telegram, Platform.discord: discord}


@asynccontextmanager
async def senders(
    settings: Settings, codec: ButtonCodec, languages: Languages
) -> AsyncIterator[list[Notifier]]:
    """Notifiers for every platform with a token, over the platforms' HTTP APIs only
    (no polling, no gateway): for a push run outside ``moviebot run``; the picks speak
    each user's language of ``languages``."""
    async with AsyncExitStack() as clients:
        notifiers: list[Notifier] = []
        if settings.telegram.token is not None:
            token = settings.telegram.token.get_secret_value()
            bot = await clients.enter_async_context(sending_bot(token, settings.telegram.base_url))
            notifiers.append(TelegramNotifier(bot, codec, languages))
        if settings.discord.token is not None:
            client = await clients.enter_async_context(
                rest_client(settings.discord.token.get_secret_value())
            )
            notifiers.append(DiscordNotifier(client, codec, languages))
        yield notifiers


def telegram_webhook(settings: Settings) -> Webhook | None:
    """The webhook of ``MOVIEBOT_TELEGRAM_WEBHOOK_*``, or ``None`` for long polling.

    Telegram sends the secret token in a header with every update; it is derived from
    ``MOVIEBOT_SECRET``, so no other secret needs configuring.
    """
    telegram = settings.telegram
    if telegram.webhook_url is None:
        return None
    if settings.buttons.secret is None:
        raise MovieBotError("set MOVIEBOT_SECRET: it also authenticates webhook updates")
    key = derived_key(settings.buttons.secret.get_secret_value().encode(), "telegram-webhook")
    token = base64.urlsafe_b64encode(key).decode().rstrip("=")
    return Webhook(telegram.webhook_url, telegram.webhook_listen, telegram.webhook_port, token)


def _token(secret: SecretStr | None, variable: str) -> str:
    if secret is None:
        raise MovieBotError(f"{variable} is not set")
    token: str = secret.get_secret_value()
    return token
