"""Discord slash commands and button presses: defer, one call on the Recommender, render.

Discord drops an interaction that is not acknowledged within 3 seconds, so every
command and press is deferred before anything slow (embedding, Redis) and answered
with a follow-up; a refusal or an outage after the defer still reaches the user, as a
follow-up only they can see.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from adapters import texts
from adapters.buttons import Button, ButtonAction
from adapters.discord import render
from adapters.discord.components import PREFIX, PRESS_HANDLER_COG
from adapters.discord.notifier import CANNOT_MESSAGE_USER
from adapters.discord.unexpected import answer_privately
from adapters.observe import CommandObserver, observed
from adapters.services import ChatServices
from adapters.texts import shorten
from core.browsing import Browser
from core.errors import EmbedderError, InvalidRequestError, StoreUnavailableError
from core.models import Movie, UserRef
from core.subscriptions import known_timezones

Interaction = discord.Interaction[Any]
MAX_QUERY_CHARS = 500
MAX_CHOICES = 25  # Discord's limit on the choices of an autocomplete
CHOICE_CHARS = 100  # and on the name and the value of each
WEEKDAY_CHOICES = [app_commands.Choice(name=day, value=n) for n, day in enumerate(texts.WEEKDAYS)]


def _described(command: str) -> str:
    """The description of an app command: what it does, as a sentence."""
    description = texts.described(command)
    return description[0].upper() + description[1:]


class MovieCommands(commands.Cog, name=PRESS_HANDLER_COG):
    """The slash commands and the buttons of moviebot, over the core services."""

    def __init__(self, services: ChatServices) -> None:
        self._services = services
        self._recommender = services.recommender
        self._browser = Browser(services.recommender, services.lists)
        self._codec = services.codec

    async def cog_load(self) -> None:
        """Index the titles before the first autocomplete needs them."""
        await asyncio.to_thread(lambda: self._browser.titles)

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        """Every command counts against the user's request limit; beyond it, "slow down"
        (discord.py runs this before each command of the cog)."""
        if await self._services.requests.allow(_user(interaction)):
            return True
        await interaction.response.send_message(texts.SLOW_DOWN, ephemeral=True)
        return False

    @app_commands.command(description=_described("search"))
    @app_commands.describe(text="What you feel like watching, e.g. space adventure")
    async def search(
        self, interaction: Interaction, text: app_commands.Range[str, 1, MAX_QUERY_CHARS]
    ) -> None:
        """/search text: the closest movies with buttons."""
        user = _user(interaction)
        if not await self._services.searches.allow(user):
            await interaction.response.send_message(texts.SLOW_DOWN, ephemeral=True)
            return
        await self._answer(interaction, self._search(user, text))

    @search.autocomplete("text")
    async def search_titles(self, interaction: Interaction, current: str) -> list[Any]:
        """Titles that start with what the user typed so far; their value is the title."""
        return [
            app_commands.Choice(name=_choice(movie.label), value=_choice(movie.title))
            for movie in await self._completions(current)
        ]

    @app_commands.command(description=_described("similar"))
    @app_commands.describe(title=texts.SIMILAR_TITLE_HINT)
    async def similar(
        self, interaction: Interaction, title: app_commands.Range[str, 1, MAX_QUERY_CHARS]
    ) -> None:
        """/similar title: the movies like the one named (or the closest to the text)."""
        user = _user(interaction)
        if not await self._services.searches.allow(user):
            await interaction.response.send_message(texts.SLOW_DOWN, ephemeral=True)
            return
        await self._answer(interaction, self._similar(user, title))

    @similar.autocomplete("title")
    async def similar_titles(self, interaction: Interaction, current: str) -> list[Any]:
        """Titles that start with what the user typed so far; their value names the movie
        with its year."""
        return [
            app_commands.Choice(name=_choice(movie.label), value=_choice(movie.label))
            for movie in await self._completions(current)
        ]

    async def _completions(self, typed: str) -> list[Movie]:
        """Completions from memory, in a worker thread: a catalog of a million titles
        takes up to a second (benchmarks/bench_titles.py), which no other user waits for."""
        return await asyncio.to_thread(self._browser.complete, typed, MAX_CHOICES)

    @app_commands.command(description=_described("recommend"))
    async def recommend(self, interaction: Interaction) -> None:
        """/recommend: the movies nearest the user's taste."""
        await self._answer(interaction, self._recommend(_user(interaction)))

    @app_commands.command(description=_described("explore"))
    @app_commands.describe(strength="How far from your taste: 0 (close) to 1 (far)")
    async def explore(
        self, interaction: Interaction, strength: app_commands.Range[float, 0.0, 1.0] | None = None
    ) -> None:
        """/explore [strength]: recommendations from a step outside the taste."""
        await self._answer(interaction, self._explore(_user(interaction), strength))

    @app_commands.command(description=_described("profile"))
    async def profile(self, interaction: Interaction) -> None:
        """/profile: picks so far, top genres, last picks (only the user sees it)."""
        await self._answer(interaction, self._profile(_user(interaction)), ephemeral=True)

    @app_commands.command(description=_described("undo"))
    async def undo(self, interaction: Interaction) -> None:
        """/undo: revert the last pick or less-like-this."""
        work = self._undo(_user(interaction), f"discord:{interaction.id}")
        await self._answer(interaction, work, ephemeral=True)

    @app_commands.command(description=_described("forget"))
    async def forget(self, interaction: Interaction) -> None:
        """/forget: ask for confirmation with a button (only the user sees it)."""
        with observed(self._services.observer, "discord", "forget"):
            reply = render.forget_confirmation(_user(interaction), self._codec)
            await interaction.response.send_message(**reply.message(), ephemeral=True)

    @app_commands.command(description=_described("subscribe"))
    @app_commands.describe(
        day="Day of the week (default Friday)",
        hour="Hour of the day, 0-23 (default 18)",
        timezone="Your time zone, e.g. Europe/Berlin (default UTC)",
    )
    @app_commands.choices(day=WEEKDAY_CHOICES)
    async def subscribe(
        self,
        interaction: Interaction,
        day: app_commands.Choice[int] | None = None,
        hour: app_commands.Range[int, 0, 23] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        """/subscribe [day] [hour] [timezone]: the weekly exploratory picks."""
        weekday = None if day is None else day.value
        work = self._subscribe(interaction, weekday, hour, timezone)
        await self._answer(interaction, work, ephemeral=True)

    @subscribe.autocomplete("timezone")
    async def timezones(self, interaction: Interaction, current: str) -> list[Any]:
        """Time zones whose name holds what the user typed so far."""
        typed = current.lower()
        matches = [zone for zone in _timezones() if typed in zone.lower()][:25]
        return [app_commands.Choice(name=zone, value=zone) for zone in matches]

    @app_commands.command(description=_described("unsubscribe"))
    async def unsubscribe(self, interaction: Interaction) -> None:
        """/unsubscribe: no more weekly picks."""
        await self._answer(interaction, self._unsubscribe(_user(interaction)), ephemeral=True)

    @app_commands.command(description=_described("help"))
    async def help(self, interaction: Interaction) -> None:
        """/help: every command (only the user sees it)."""
        with observed(self._services.observer, "discord", "help"):
            await interaction.response.send_message(**render.help_reply().message(), ephemeral=True)

    @commands.Cog.listener()
    async def on_app_command_completion(self, interaction: Interaction, command: Any) -> None:
        """After a command was answered: what the user is to be told once."""
        await self._tell_notices(interaction)

    async def _tell_notices(self, interaction: Interaction) -> None:
        """What the user is to be told once, only to them (read again next time when the
        store does not answer)."""
        try:
            notices = await self._services.subscriptions.take_notices(_user(interaction))
        except StoreUnavailableError:
            return
        for notice in sorted(notices):
            text = texts.notice(notice, texts.RESUME_BY_DIRECT_MESSAGE)
            await answer_privately(interaction, render.escape(text))

    async def _answer(
        self,
        interaction: Interaction,
        work: Coroutine[Any, Any, render.Reply],
        *,
        ephemeral: bool = False,
    ) -> None:
        """Defer, then send what ``work`` renders (or why it could not) as the follow-up."""
        try:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        except BaseException:
            work.close()
            raise
        command = interaction.command.name if interaction.command else "command"
        public = not ephemeral
        async with _told_errors(
            interaction, self._services.observer, command, public_loading=public
        ):
            reply = await work
            await interaction.followup.send(**reply.message(), ephemeral=ephemeral)

    async def press(self, interaction: Interaction, payload: str) -> None:
        """A pressed button: pick, less like this, like this, a page of a list, or confirm
        forget."""
        user = _user(interaction)
        if not await self._services.requests.allow(user):
            await interaction.response.send_message(texts.SLOW_DOWN, ephemeral=True)
            return
        try:
            button = self._codec.read(user, payload)
        except InvalidRequestError as error:
            await interaction.response.send_message(texts.refusal(error), ephemeral=True)
            return
        await interaction.response.defer()
        async with _told_errors(interaction, self._services.observer, "button"):
            match button.action:
                case ButtonAction.FORGET:
                    await self._recommender.forget(user)
                    await interaction.edit_original_response(content=texts.FORGOTTEN, view=None)
                    return
                case ButtonAction.PAGE:
                    shown = await self._browser.page(user, button.list_id, button.offset)
                    reply = render.page(shown, user, self._codec)
                    await interaction.edit_original_response(**reply.message())
                case ButtonAction.SIMILAR:
                    shown = await self._browser.similar(user, button.movie_id)
                    reply = render.page(shown, user, self._codec)
                    await interaction.followup.send(**reply.message())
                case _:
                    await self._pick_or_dislike(interaction, user, button, f"{PREFIX}{payload}")
        await self._tell_notices(interaction)

    async def _pick_or_dislike(
        self, interaction: Interaction, user: UserRef, button: Button, custom_id: str
    ) -> None:
        picked = button.action is ButtonAction.PICK
        act = self._recommender.pick if picked else self._recommender.dislike
        result = await act(user, button.movie_id, idempotency_key=f"discord:{interaction.id}")
        await interaction.followup.send(render.escape(texts.pick_result(result)), ephemeral=True)
        view = render.marked_view(interaction.message, custom_id, "✓" if picked else "✗")
        if result.applied and view is not None:
            await interaction.edit_original_response(view=view)

    async def _search(self, user: UserRef, text: str) -> render.Reply:
        return render.page(await self._browser.search(user, text), user, self._codec)

    async def _similar(self, user: UserRef, title: str) -> render.Reply:
        return render.page(await self._browser.similar_to(user, title), user, self._codec)

    async def _recommend(self, user: UserRef) -> render.Reply:
        return render.page(await self._browser.recommend(user), user, self._codec)

    async def _explore(self, user: UserRef, strength: float | None) -> render.Reply:
        return render.page(await self._browser.explore(user, strength), user, self._codec)

    async def _profile(self, user: UserRef) -> render.Reply:
        return render.profile_reply(await self._recommender.profile(user))

    async def _undo(self, user: UserRef, idempotency_key: str) -> render.Reply:
        result = await self._recommender.undo(user, idempotency_key)
        return render.text(render.escape(texts.pick_result(result)))

    async def _subscribe(
        self, interaction: Interaction, weekday: int | None, hour: int | None, timezone: str | None
    ) -> render.Reply:
        """Subscribe; asked in a server, also confirm by direct message, where the picks
        come, and take the subscription back when that is refused."""
        user = _user(interaction)
        slot = await self._services.subscriptions.subscribe(user, weekday, hour, timezone)
        confirmation = render.escape(texts.subscribed(slot))
        if interaction.guild is None:
            return render.text(confirmation)
        if await _direct_message(interaction.user, confirmation):
            return render.text(f"{confirmation}\n{texts.SENT_PRIVATELY['subscribe']}")
        await self._services.subscriptions.unsubscribe(user)
        return render.text(texts.DIRECT_MESSAGES_CLOSED)

    async def _unsubscribe(self, user: UserRef) -> render.Reply:
        return render.text(texts.unsubscribed(await self._services.subscriptions.unsubscribe(user)))


@asynccontextmanager
async def _told_errors(
    interaction: Interaction,
    observer: CommandObserver,
    command: str,
    *,
    public_loading: bool = False,
) -> AsyncIterator[None]:
    """After the defer: refusals and outages become a follow-up only the user sees.

    The first follow-up of a deferred command fills its loading message, which everyone
    sees when the defer was public: that message is deleted first.
    """
    try:
        with observed(observer, "discord", command):
            yield
    except (InvalidRequestError, StoreUnavailableError, EmbedderError) as error:
        if public_loading:
            await interaction.delete_original_response()
        if isinstance(error, InvalidRequestError):
            await interaction.followup.send(render.escape(texts.refusal(error)), ephemeral=True)
        else:
            await interaction.followup.send(texts.unavailable(error), ephemeral=True)


async def _direct_message(user: discord.abc.User, text: str) -> bool:
    """Send ``text`` by direct message; ``False`` when the user's are closed to the bot."""
    try:
        await user.send(text, allowed_mentions=discord.AllowedMentions.none())
    except discord.Forbidden as error:
        if error.code != CANNOT_MESSAGE_USER:
            raise
        return False
    return True


def _choice(text: str) -> str:
    return shorten(text, CHOICE_CHARS)


def _user(interaction: Interaction) -> UserRef:
    return UserRef("discord", str(interaction.user.id))


@functools.cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(known_timezones()))
