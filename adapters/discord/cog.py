"""Discord slash commands and button presses: defer, one call on the Recommender, render.

Discord drops an interaction that is not acknowledged within 3 seconds, so every
command and press is deferred before anything slow (embedding, Redis) and answered
with a follow-up; a refusal or an outage after the defer still reaches the user, as a
follow-up only they can see.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from adapters import i18n, texts
from adapters.buttons import Button, ButtonAction
from adapters.discord import render
from adapters.discord.completion import timezone_choices, title_choices
from adapters.discord.components import PREFIX, PRESS_HANDLER_COG
from adapters.discord.notifier import CANNOT_MESSAGE_USER
from adapters.discord.translator import described
from adapters.discord.unexpected import answer_privately
from adapters.i18n import NP_, Words
from adapters.observe import CommandObserver, observed
from adapters.rate_limit import RateLimit
from adapters.services import ChatServices
from core.browsing import Browser
from core.errors import EmbedderError, InvalidRequestError, StoreUnavailableError
from core.models import UserRef

Interaction = discord.Interaction[Any]
Work = Callable[[Words], Coroutine[Any, Any, render.Reply]]
MAX_QUERY_CHARS = 500
MAX_LANGUAGE_CHARS = 16
WEEKDAY_CHOICES = [app_commands.Choice(name=day, value=n) for n, day in enumerate(texts.WEEKDAYS)]
OPTION_NAMES = (
    NP_("option", "text"),
    NP_("option", "strength"),
    NP_("option", "day"),
    NP_("option", "hour"),
    NP_("option", "timezone"),
    NP_("option", "code"),
    NP_("option", "title"),
)
"""The names of the commands' options, which Discord shows translated."""


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
        return await self._allowed(interaction, self._services.requests)

    async def _allowed(self, interaction: Interaction, limit: RateLimit) -> bool:
        """Whether ``limit`` lets the user go on; if not, they are told to slow down."""
        if await limit.allow(_user(interaction)):
            return True
        words = await self._words(interaction)
        await interaction.response.send_message(words.gettext(texts.SLOW_DOWN), ephemeral=True)
        return False

    @app_commands.command(description=described("search"))
    @app_commands.describe(
        text=app_commands.locale_str("What you feel like watching, e.g. space adventure")
    )
    async def search(
        self, interaction: Interaction, text: app_commands.Range[str, 1, MAX_QUERY_CHARS]
    ) -> None:
        """/search text: the closest movies with buttons."""
        user = _user(interaction)
        if await self._allowed(interaction, self._services.searches):
            await self._answer(interaction, lambda words: self._search(words, user, text))

    @search.autocomplete("text")
    async def search_titles(self, interaction: Interaction, current: str) -> list[Any]:
        """Titles that start with what the user typed so far; their value is the title."""
        return await title_choices(self._browser, current, with_year=False)

    @app_commands.command(description=described("similar"))
    @app_commands.describe(title=app_commands.locale_str("A movie you like, e.g. Die Hard"))
    async def similar(
        self, interaction: Interaction, title: app_commands.Range[str, 1, MAX_QUERY_CHARS]
    ) -> None:
        """/similar title: the movies like the one named (or the closest to the text)."""
        user = _user(interaction)
        if await self._allowed(interaction, self._services.searches):
            await self._answer(interaction, lambda words: self._similar(words, user, title))

    @similar.autocomplete("title")
    async def similar_titles(self, interaction: Interaction, current: str) -> list[Any]:
        """Titles that start with what the user typed so far; their value names the movie
        with its year."""
        return await title_choices(self._browser, current, with_year=True)

    @app_commands.command(description=described("recommend"))
    async def recommend(self, interaction: Interaction) -> None:
        """/recommend: the movies nearest the user's taste."""
        user = _user(interaction)
        await self._answer(interaction, lambda words: self._recommend(words, user))

    @app_commands.command(description=described("explore"))
    @app_commands.describe(
        strength=app_commands.locale_str("How far from your taste: 0 (close) to 1 (far)")
    )
    async def explore(
        self, interaction: Interaction, strength: app_commands.Range[float, 0.0, 1.0] | None = None
    ) -> None:
        """/explore [strength]: recommendations from a step outside the taste."""
        user = _user(interaction)
        await self._answer(interaction, lambda words: self._explore(words, user, strength))

    @app_commands.command(description=described("profile"))
    async def profile(self, interaction: Interaction) -> None:
        """/profile: picks so far, top genres, last picks (only the user sees it)."""
        user = _user(interaction)
        await self._answer(interaction, lambda words: self._profile(words, user), ephemeral=True)

    @app_commands.command(description=described("undo"))
    async def undo(self, interaction: Interaction) -> None:
        """/undo: revert the last pick or less-like-this."""
        user, key = _user(interaction), f"discord:{interaction.id}"
        await self._answer(interaction, lambda words: self._undo(words, user, key), ephemeral=True)

    @app_commands.command(description=described("forget"))
    async def forget(self, interaction: Interaction) -> None:
        """/forget: ask for confirmation with a button (only the user sees it)."""
        with observed(self._services.observer, "discord", "forget"):
            words = await self._words(interaction)
            reply = render.forget_confirmation(words, _user(interaction), self._codec)
            await interaction.response.send_message(**reply.message(), ephemeral=True)

    @app_commands.command(description=described("subscribe"))
    @app_commands.describe(
        day=app_commands.locale_str("Day of the week (default Friday)"),
        hour=app_commands.locale_str("Hour of the day, 0-23 (default 18)"),
        timezone=app_commands.locale_str("Your time zone, e.g. Europe/Berlin (default UTC)"),
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

        def work(words: Words) -> Coroutine[Any, Any, render.Reply]:
            return self._subscribe(words, interaction, weekday, hour, timezone)

        await self._answer(interaction, work, ephemeral=True)

    @subscribe.autocomplete("timezone")
    async def timezones(self, interaction: Interaction, current: str) -> list[Any]:
        """Time zones whose name holds what the user typed so far."""
        return timezone_choices(current)

    @app_commands.command(description=described("unsubscribe"))
    async def unsubscribe(self, interaction: Interaction) -> None:
        """/unsubscribe: no more weekly picks."""
        user = _user(interaction)
        await self._answer(
            interaction, lambda words: self._unsubscribe(words, user), ephemeral=True
        )

    @app_commands.command(description=described("language"))
    @app_commands.describe(
        code=app_commands.locale_str("en or ru; empty: the language I speak now")
    )
    async def language(
        self,
        interaction: Interaction,
        code: app_commands.Range[str, 1, MAX_LANGUAGE_CHARS] | None = None,
    ) -> None:
        """/language [code]: the language the bot speaks with the user (only they see it)."""
        user = _user(interaction)
        await self._answer(
            interaction, lambda words: self._language(words, user, code), ephemeral=True
        )

    @app_commands.command(description=described("help"))
    async def help(self, interaction: Interaction) -> None:
        """/help: every command (only the user sees it)."""
        with observed(self._services.observer, "discord", "help"):
            reply = render.help_reply(await self._words(interaction))
            await interaction.response.send_message(**reply.message(), ephemeral=True)

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
        words = await self._words(interaction)
        resume = words.gettext(texts.RESUME_BY_DIRECT_MESSAGE)
        for notice in sorted(notices):
            await answer_privately(interaction, render.escape(texts.notice(words, notice, resume)))

    async def _words(self, interaction: Interaction) -> Words:
        """What to say to the user of ``interaction``, in their language."""
        return await self._services.words(_user(interaction), interaction.locale.value)

    async def _answer(
        self, interaction: Interaction, work: Work, *, ephemeral: bool = False
    ) -> None:
        """Defer, then send what ``work`` renders in the user's language (or why it could
        not) as the follow-up."""
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        command = interaction.command.name if interaction.command else "command"
        words = await self._words(interaction)
        public = not ephemeral
        async with _told_errors(
            interaction, words, self._services.observer, command, public_loading=public
        ):
            reply = await work(words)
            await interaction.followup.send(**reply.message(), ephemeral=ephemeral)

    async def press(self, interaction: Interaction, payload: str) -> None:
        """A pressed button: pick, less like this, like this, a page of a list, or confirm
        forget."""
        user = _user(interaction)
        words = await self._words(interaction)
        if not await self._services.requests.allow(user):
            await interaction.response.send_message(words.gettext(texts.SLOW_DOWN), ephemeral=True)
            return
        try:
            button = self._codec.read(user, payload)
        except InvalidRequestError as error:
            await interaction.response.send_message(
                render.escape(texts.refusal(words, error)), ephemeral=True
            )
            return
        await interaction.response.defer()
        async with _told_errors(interaction, words, self._services.observer, "button"):
            match button.action:
                case ButtonAction.FORGET:
                    await self._recommender.forget(user)
                    forgotten = render.escape(words.gettext(texts.FORGOTTEN))
                    await interaction.edit_original_response(content=forgotten, view=None)
                    return
                case ButtonAction.PAGE:
                    shown = await self._browser.page(user, button.list_id, button.offset)
                    reply = render.page(words, shown, user, self._codec)
                    await interaction.edit_original_response(**reply.message())
                case ButtonAction.SIMILAR:
                    shown = await self._browser.similar(user, button.movie_id)
                    reply = render.page(words, shown, user, self._codec)
                    await interaction.followup.send(**reply.message())
                case _:
                    custom_id = f"{PREFIX}{payload}"
                    await self._pick_or_dislike(words, interaction, user, button, custom_id)
        await self._tell_notices(interaction)

    async def _pick_or_dislike(
        self, words: Words, interaction: Interaction, user: UserRef, button: Button, custom_id: str
    ) -> None:
        picked = button.action is ButtonAction.PICK
        act = self._recommender.pick if picked else self._recommender.dislike
        result = await act(user, button.movie_id, idempotency_key=f"discord:{interaction.id}")
        outcome = render.escape(texts.pick_result(words, result))
        await interaction.followup.send(outcome, ephemeral=True)
        view = render.marked_view(interaction.message, custom_id, "✓" if picked else "✗")
        if result.applied and view is not None:
            await interaction.edit_original_response(view=view)

    async def _search(self, words: Words, user: UserRef, text: str) -> render.Reply:
        shown = await self._browser.search(user, text)
        reply = render.page(words, shown, user, self._codec)
        if self._recommender.reads(text):
            return reply
        hint = render.escape(words.gettext(texts.SEARCH_IN_ENGLISH))
        return dataclasses.replace(reply, content=f"{reply.content}\n*{hint}*")

    async def _similar(self, words: Words, user: UserRef, title: str) -> render.Reply:
        shown = await self._browser.similar_to(user, title)
        return render.page(words, shown, user, self._codec)

    async def _recommend(self, words: Words, user: UserRef) -> render.Reply:
        return render.page(words, await self._browser.recommend(user), user, self._codec)

    async def _explore(self, words: Words, user: UserRef, strength: float | None) -> render.Reply:
        shown = await self._browser.explore(user, strength)
        return render.page(words, shown, user, self._codec)

    async def _profile(self, words: Words, user: UserRef) -> render.Reply:
        return render.profile_reply(words, await self._recommender.profile(user))

    async def _undo(self, words: Words, user: UserRef, idempotency_key: str) -> render.Reply:
        result = await self._recommender.undo(user, idempotency_key)
        return render.text(render.escape(texts.pick_result(words, result)))

    async def _subscribe(
        self,
        words: Words,
        interaction: Interaction,
        weekday: int | None,
        hour: int | None,
        timezone: str | None,
    ) -> render.Reply:
        """Subscribe (the picks will speak the user's language); asked in a server, also
        confirm by direct message, where the picks come, and take the subscription back
        when that is refused."""
        user = _user(interaction)
        slot = await self._services.subscriptions.subscribe(
            user, weekday, hour, timezone, words.language
        )
        confirmation = render.escape(texts.subscribed(words, slot))
        if interaction.guild is None:
            return render.text(confirmation)
        if await _direct_message(interaction.user, confirmation):
            sent = render.escape(words.gettext(texts.SENT_PRIVATELY["subscribe"]))
            return render.text(f"{confirmation}\n{sent}")
        await self._services.subscriptions.unsubscribe(user)
        return render.text(render.escape(words.gettext(texts.DIRECT_MESSAGES_CLOSED)))

    async def _unsubscribe(self, words: Words, user: UserRef) -> render.Reply:
        was_subscribed = await self._services.subscriptions.unsubscribe(user)
        return render.text(render.escape(texts.unsubscribed(words, was_subscribed)))

    async def _language(self, words: Words, user: UserRef, code: str | None) -> render.Reply:
        """Choose the language ``code``, answered in it; without one, say which it is."""
        languages = self._services.languages
        if code is None:
            return render.text(render.escape(texts.language_now(words, languages.known)))
        chosen = i18n.words(await languages.choose(user, code))
        return render.text(render.escape(texts.language_chosen(chosen)))


@asynccontextmanager
async def _told_errors(
    interaction: Interaction,
    words: Words,
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
            text = texts.refusal(words, error)
        else:
            text = texts.unavailable(words, error)
        await interaction.followup.send(render.escape(text), ephemeral=True)


async def _direct_message(user: discord.abc.User, text: str) -> bool:
    """Send ``text`` by direct message; ``False`` when the user's are closed to the bot."""
    try:
        await user.send(text, allowed_mentions=discord.AllowedMentions.none())
    except discord.Forbidden as error:
        if error.code != CANNOT_MESSAGE_USER:
            raise
        return False
    return True


def _user(interaction: Interaction) -> UserRef:
    return UserRef("discord", str(interaction.user.id))
