"""Movie night on Discord: /movienight in a channel, and its buttons.

The vote is a row of buttons with a live count (each press edits the message), not one
of Discord's native polls: those need the gateway's poll intents and events, while a
button press arrives like every other and carries a payload signed for its channel.
:meth:`MovieNightCommands.run_due` moves on every lobby past its deadline, and is
called every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from adapters import movienight_texts as night_texts
from adapters import texts
from adapters.buttons import NightAction, NightButton
from adapters.discord import movienight_render as render
from adapters.discord.notifier import CANNOT_MESSAGE_USER
from adapters.discord.render import Reply, escape
from adapters.discord.translator import described
from adapters.discord.unexpected import answer_privately
from adapters.i18n import Words
from adapters.movienight_texts import group_words
from adapters.observe import observed
from adapters.services import ChatServices
from core.errors import EmbedderError, InvalidRequestError, StoreUnavailableError
from core.lobbies import ChatRef, Lobby, Member
from core.models import UserRef
from core.movienight import MovieNights, NightCancelled, NightDecided, NightStarted

log = logging.getLogger(__name__)
Interaction = discord.Interaction[Any]
PLATFORM = "discord"


class MovieNightCommands(commands.Cog, name=render.NIGHT_COG):
    """``/movienight`` and the presses on its buttons, over the movie-night service."""

    def __init__(self, services: ChatServices, nights: MovieNights) -> None:
        self._services = services
        self._codec = services.codec
        self._nights = nights

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        """The command counts against the user's request limit, as every other does."""
        if await self._services.requests.allow(_user(interaction)):
            return True
        words = await self._words(interaction)
        await interaction.response.send_message(words.gettext(texts.SLOW_DOWN), ephemeral=True)
        return False

    @app_commands.command(description=described("movienight"))
    async def movienight(self, interaction: Interaction) -> None:
        """/movienight: a lobby in the channel, with "I'm in" and "Start"."""
        words = await self._words(interaction)
        if interaction.guild is None or interaction.channel_id is None:
            refused = escape(words.gettext(night_texts.NIGHT_IN_CHANNELS))
            await interaction.response.send_message(refused, ephemeral=True)
            return
        async with self._answered(interaction, words, "movienight"):
            chat = ChatRef(PLATFORM, str(interaction.channel_id))
            lobby = await self._nights.open(chat, _member(interaction, words))
            await interaction.response.send_message(**self._lobby(lobby).message())
            sent = await interaction.original_response()
            await self._nights.attach(lobby.lobby_id, lobby_message=str(sent.id))

    async def press(self, interaction: Interaction, payload: str) -> None:
        """A press on a movie night's message: join, start, vote, close, watched; what
        only the presser sees speaks their language, what the channel sees the opener's."""
        words = await self._words(interaction)
        if not await self._services.requests.allow(_user(interaction)):
            await interaction.response.send_message(words.gettext(texts.SLOW_DOWN), ephemeral=True)
            return
        async with self._answered(interaction, words, "night_button"):
            chat = ChatRef(PLATFORM, str(interaction.channel_id))
            press = self._codec.read_night(chat, payload)
            await self._pressed(interaction, words, chat, press)

    async def run_due(self, client: discord.Client) -> None:
        """Start, cancel or close every Discord lobby past its deadline, and say so."""
        for step in await self._nights.advance_due(PLATFORM):
            try:
                await self._said(client, step)
            except discord.HTTPException as error:
                log.warning("could not tell channel %s: %s", step.lobby.chat.chat_id, error)

    async def _pressed(
        self, interaction: Interaction, words: Words, chat: ChatRef, press: NightButton
    ) -> None:
        user = _user(interaction)
        match press.action:
            case NightAction.JOIN:
                member = _member(interaction, words)
                joined = await self._nights.join(press.lobby_id, chat, member)
                if not joined.joined:
                    already = escape(words.gettext(night_texts.ALREADY_JOINED))
                    await interaction.response.send_message(already, ephemeral=True)
                    return
                lobby = joined.lobby
                content = render.lobby_text(group_words(lobby), lobby, self._nights.settings)
                await interaction.response.edit_message(content=content)
            case NightAction.START:
                await interaction.response.defer()
                started = await self._nights.start(press.lobby_id, chat, user)
                begun = render.started_lobby(group_words(started.lobby), started.lobby)
                await interaction.edit_original_response(**begun.message(), view=None)
                sent = await interaction.followup.send(**self._list(started).message(), wait=True)
                await self._started(interaction.client, started, str(sent.id))
            case NightAction.VOTE:
                voted = await self._nights.vote(press.lobby_id, chat, user, press.option)
                view = render.vote_view(group_words(voted.lobby), voted.lobby, self._codec)
                await interaction.response.edit_message(view=view)
            case NightAction.CLOSE:
                await interaction.response.defer()
                decision = await self._nights.close(press.lobby_id, chat, user)
                said = group_words(decision.lobby)
                closed = render.vote_closed(said, decision)
                await interaction.edit_original_response(content=closed, view=None)
                decided = render.decided(said, decision, self._codec)
                await interaction.followup.send(**decided.message())
            case NightAction.WATCHED:
                await interaction.response.defer()
                key = f"{PLATFORM}:{interaction.id}"
                result = await self._nights.watched(press.lobby_id, chat, user, key)
                picked = escape(texts.pick_result(words, result))
                await interaction.followup.send(picked, ephemeral=True)

    async def _said(
        self, client: discord.Client, step: NightStarted | NightCancelled | NightDecided
    ) -> None:
        lobby = step.lobby
        words = group_words(lobby)
        channel = client.get_partial_messageable(int(lobby.chat.chat_id))
        match step:
            case NightStarted():
                started = render.started_lobby(words, lobby).content
                await _edit(channel, lobby.lobby_message, started)
                sent = await channel.send(**self._list(step).message())
                await self._started(client, step, str(sent.id))
            case NightCancelled():
                cancelled = render.cancelled_lobby(words).content
                await _edit(channel, lobby.lobby_message, cancelled)
            case NightDecided():
                await _edit(channel, lobby.vote_message, render.vote_closed(words, step))
                await channel.send(**render.decided(words, step, self._codec).message())

    async def _started(self, client: discord.Client, started: NightStarted, vote: str) -> None:
        """Keep the vote's message, and tell those left out of the list, privately and in
        their language; when one's direct messages are closed, say it in the channel,
        naming nobody."""
        await self._nights.attach(started.lobby.lobby_id, vote_message=vote)
        unreachable = False
        for member in started.left_out:
            words = await self._services.words(member.user, member.language)
            try:
                dm = await client.create_dm(discord.Object(int(member.user.user_id)))
                await dm.send(escape(words.gettext(night_texts.NO_PICKS_FOR_NIGHT)))
            except discord.Forbidden as error:
                if error.code != CANNOT_MESSAGE_USER:
                    raise
                unreachable = True
        if unreachable:
            channel = client.get_partial_messageable(int(started.lobby.chat.chat_id))
            said = render.picks_first(group_words(started.lobby))
            await channel.send(said, allowed_mentions=discord.AllowedMentions.none())

    def _lobby(self, lobby: Lobby) -> Reply:
        return render.lobby(group_words(lobby), lobby, self._codec, self._nights.settings)

    def _list(self, started: NightStarted) -> Reply:
        return render.group_list(group_words(started.lobby), started, self._codec)

    async def _words(self, interaction: Interaction) -> Words:
        """What to say to the user of ``interaction``, in their language."""
        return await self._services.words(_user(interaction), interaction.locale.value)

    @asynccontextmanager
    async def _answered(
        self, interaction: Interaction, words: Words, command: str
    ) -> AsyncIterator[None]:
        """Refusals and outages become an answer only the user sees, in their language."""
        try:
            with observed(self._services.observer, PLATFORM, command):
                yield
        except InvalidRequestError as error:
            refused = night_texts.night_refusal(words, error)
            await answer_privately(interaction, escape(refused))
        except (StoreUnavailableError, EmbedderError) as error:
            await answer_privately(interaction, escape(texts.unavailable(words, error)))


async def _edit(channel: discord.PartialMessageable, message_id: str | None, content: str) -> None:
    """Put ``content`` in one of the bot's messages in ``channel`` and take its buttons
    away; send ``content`` instead when the message's id was never kept."""
    mentions = discord.AllowedMentions.none()
    if message_id is None:
        await channel.send(content, allowed_mentions=mentions)
        return
    message = channel.get_partial_message(int(message_id))
    await message.edit(content=content, view=None, allowed_mentions=mentions)


def _user(interaction: Interaction) -> UserRef:
    return UserRef(PLATFORM, str(interaction.user.id))


def _member(interaction: Interaction, words: Words) -> Member:
    """The user of ``interaction``, who speaks ``words``' language."""
    return Member(_user(interaction), interaction.user.display_name, words.language)
