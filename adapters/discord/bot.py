"""The Discord client: the Movies cog, persistent buttons, slash commands synced at start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
from discord.ext import commands

from adapters.discord.cog import MovieCommands
from adapters.discord.components import PayloadButton
from adapters.discord.movienight import MovieNightCommands
from adapters.discord.movienight_render import NightPayloadButton
from adapters.discord.translator import CatalogTranslator
from adapters.discord.unexpected import MovieTree
from core.errors import MovieBotError, RefusedTokenError


class MovieBot(commands.AutoShardedBot):
    """A bot with the Movies cog; as many shards as Discord recommends for its servers."""

    def __init__(
        self,
        cog: MovieCommands,
        guild_id: int | None = None,
        guild_ready_timeout: float = 2.0,
        night: MovieNightCommands | None = None,
    ) -> None:
        """``guild_ready_timeout``: seconds to wait at start for the servers' data;
        ``night``: the movie night's cog, if the bot serves it."""
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=MovieTree,
            guild_ready_timeout=guild_ready_timeout,
        )
        self._cog = cog
        self._night = night
        self._guild_id = guild_id

    async def setup_hook(self) -> None:
        """Add the cogs and the persistent buttons, then publish the slash commands with
        their names and descriptions in every language of the catalogs: to one server at
        once when ``guild_id`` is set (for development), else globally."""
        await self.tree.set_translator(CatalogTranslator())
        await self.add_cog(self._cog)
        self.add_dynamic_items(PayloadButton)
        if self._night is not None:
            await self.add_cog(self._night)
            self.add_dynamic_items(NightPayloadButton)
        guild = None if self._guild_id is None else discord.Object(self._guild_id)
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)


async def gateway_problem(bot: MovieBot) -> str | None:
    """``None`` while every shard is connected to the gateway; else a short reason."""
    shards = bot.shards.values()
    if bot.is_closed() or not bot.is_ready() or any(shard.is_closed() for shard in shards):
        return "discord not connected"
    return None


@asynccontextmanager
async def serving(bot: MovieBot, token: str) -> AsyncIterator[None]:
    """Log in (which publishes the commands) and connect; answer interactions until the
    block ends.

    Raises:
        RefusedTokenError: Discord refused the token.
        MovieBotError: the gateway connection ended before
            the bot was ready.
    """
    connection: asyncio.Task[None] | None = None
    try:
        await _login(bot, token)
        connection = asyncio.create_task(bot.connect())
        ready = asyncio.create_task(bot.wait_until_ready())
        await asyncio.wait({connection, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            connection.result()
            raise MovieBotError("Discord closed the connection before the bot was ready")
        yield
    finally:
        await bot.close()
        if connection is not None:
            connection.cancel()
            await asyncio.gather(connection, return_exceptions=True)


@asynccontextmanager
async def rest_client(token: str) -> AsyncIterator[discord.Client]:
    """A client logged in to Discord's HTTP API only (no gateway), for sending messages.

    Raises:
        RefusedTokenError: Discord refused the token.
    """
    client = discord.Client(intents=discord.Intents.none())
    try:
        await _login(client, token)
        yield client
    finally:
        await client.close()


async def _login(client: discord.Client, token: str) -> None:
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise RefusedTokenError("Discord refused the token from MOVIEBOT_DISCORD_TOKEN") from None
