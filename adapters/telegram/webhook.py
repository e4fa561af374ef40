"""Updates by webhook: Telegram posts each update to the bot's HTTPS URL (a proxy in
front terminates TLS) and the bot hands it to the Application's update queue."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 256 * 1024
"""Far above any update Telegram sends (a message is at most 4,096 characters plus its
entities); a larger body is answered 413 before it is read."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates, where the bot listens, and the header it must send."""

    url: str
    listen: str
    port: int
    secret_token: str


@asynccontextmanager
async def receiving(
    application: Application[Any, Any, Any, Any, Any, Any], webhook: Webhook
) -> AsyncIterator[None]:
    """Listen on ``webhook.listen``:``webhook.port``, register ``webhook.url`` with
    Telegram (setWebhook) and queue every update posted with the secret header."""

    async def receive(request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(secret.encode(), webhook.secret_token.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, TypeError, KeyError) as error:
            log.warning("a webhook request was not an update: %s", error)
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response()

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(urlsplit(webhook.url).path or "/", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, webhook.listen, webhook.port).start()
        await application.bot.set_webhook(webhook.url, secret_token=webhook.secret_token)
        yield
    finally:
        await runner.cleanup()
