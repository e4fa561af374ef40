"""Telegram handlers: parse the update, make one call on the Recommender, render."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from adapters import i18n, texts
from adapters.buttons import ButtonAction
from adapters.i18n import N_, Words
from adapters.observe import observed, report_unexpected
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from adapters.telegram import render
from adapters.texts import UsageError, shorten
from core.errors import EmbedderError, InvalidRequestError, StoreUnavailableError
from core.models import UserRef

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Any, Update, Context, Words], Coroutine[Any, Any, None]]
Answered = Callable[[Any, Update, Context], Coroutine[Any, Any, None]]
LIST_SIZE = 5
POPUP_CHARS = 200  # Telegram's limit on the text of a callback query's answer


def friendly(handler: Handler) -> Answered:
    """Answer in the user's language, and turn the core's refusals and outages into a
    short answer instead of silence."""

    @functools.wraps(handler)
    async def answered(self: TelegramHandlers, update: Update, context: Context) -> None:
        words = await self._words(update)
        try:
            with observed(self._services.observer, "telegram", handler.__name__):
                await handler(self, update, context, words)
            await self._tell_notices(update, context, words)
        except InvalidRequestError as error:
            await _tell(update, texts.refusal(words, error))
        except (StoreUnavailableError, EmbedderError) as error:
            await _tell(update, texts.unavailable(words, error))

    return answered


class TelegramHandlers:
    """One method per command or button; each is parse -> one core call -> render."""

    def __init__(self, services: ChatServices) -> None:
        self._services = services
        self._recommender = services.recommender
        self._codec = services.codec
        self._notices = UserRateLimit(limit=1, window=60.0)

    async def limit(self, update: Update, context: Context) -> None:
        """Any command or button beyond the user's rate limit: a short answer, nothing done."""
        if update.effective_user is None or await self._services.requests.allow(_user(update)):
            return
        words = await self._words(update)
        await _tell(update, words.gettext(texts.SLOW_DOWN))
        raise ApplicationHandlerStop

    async def dropped(self, update: Update) -> None:
        """An update dropped because too many of the user's wait: at most one notice a minute."""
        if update.effective_user is None or not await self._notices.allow(_user(update)):
            return
        try:
            await _tell(update, _reported(update).gettext(texts.TOO_MANY_WAITING))
        except TelegramError as error:
            log.warning("could not tell %s of dropped updates: %s", update.effective_user.id, error)

    @friendly
    async def start(self, update: Update, context: Context, words: Words) -> None:
        """/start: a welcome and a starter set with pick buttons; ``/start profile`` and
        ``/start subscribe`` (the links given in a group) answer that command here."""
        match context.args:
            case ["profile"]:
                return await self._profile(update, context, words)
            case ["subscribe"]:
                return await self._subscribe(update, context, words, [])
        user = _user(update)
        starters = await self._recommender.recommend(user, LIST_SIZE)
        reply = render.movie_list(words, texts.TO_START_WITH, starters, user, self._codec)
        welcome = render.welcome(words)
        await _reply(update, render.Reply(f"{welcome}\n\n{reply.text}", reply.keyboard))

    @friendly
    async def help(self, update: Update, context: Context, words: Words) -> None:
        """/help: every command."""
        await _reply(update, render.Reply(render.help_text(words)))

    @friendly
    async def search(self, update: Update, context: Context, words: Words) -> None:
        """/search <text>: the closest movies with buttons."""
        await self._search(update, words, " ".join(context.args or ()))

    @friendly
    async def text(self, update: Update, context: Context, words: Words) -> None:
        """Plain text in a private chat: a search."""
        message = update.effective_message
        await self._search(update, words, (message.text if message else None) or "")

    @friendly
    async def recommend(self, update: Update, context: Context, words: Words) -> None:
        """/recommend: the movies nearest the user's taste."""
        user = _user(update)
        found = await self._recommender.recommend(user, LIST_SIZE)
        await _reply(update, render.movie_list(words, texts.FOR_YOU, found, user, self._codec))

    @friendly
    async def explore(self, update: Update, context: Context, words: Words) -> None:
        """/explore [strength]: recommendations from a step outside the taste."""
        user = _user(update)
        strength = _strength(context.args or [])
        found = await self._recommender.explore(user, LIST_SIZE, strength=strength)
        await _reply(update, render.movie_list(words, texts.EXPLORING, found, user, self._codec))

    @friendly
    async def profile(self, update: Update, context: Context, words: Words) -> None:
        """/profile: picks so far, top genres, last picks; only ever in the private chat."""
        await self._profile(update, context, words)

    @friendly
    async def undo(self, update: Update, context: Context, words: Words) -> None:
        """/undo: take back the last pick or less-like-this."""
        result = await self._recommender.undo(_user(update))
        await _reply(update, render.plain(texts.pick_result(words, result)))

    @friendly
    async def forget(self, update: Update, context: Context, words: Words) -> None:
        """/forget: ask for confirmation with a button."""
        await _reply(update, render.forget_confirmation(words, _user(update), self._codec))

    @friendly
    async def subscribe(self, update: Update, context: Context, words: Words) -> None:
        """/subscribe [day] [hour] [time zone]: the weekly exploratory picks, confirmed in
        the private chat they come to."""
        await self._subscribe(update, context, words, context.args or [])

    @friendly
    async def unsubscribe(self, update: Update, context: Context, words: Words) -> None:
        """/unsubscribe: no more weekly picks."""
        was_subscribed = await self._services.subscriptions.unsubscribe(_user(update))
        await _reply(update, render.plain(texts.unsubscribed(words, was_subscribed)))

    @friendly
    async def language(self, update: Update, context: Context, words: Words) -> None:
        """/language [en|ru]: the language the bot speaks with the user; without a code,
        which one it speaks now."""
        languages = self._services.languages
        match context.args:
            case [code]:
                chosen = await languages.choose(_user(update), code)
                await _reply(update, render.plain(texts.language_chosen(i18n.words(chosen))))
            case []:
                await _reply(update, render.plain(texts.language_now(words, languages.known)))
            case _:
                raise UsageError(LANGUAGE_USAGE)

    @friendly
    async def button(self, update: Update, context: Context, words: Words) -> None:
        """A pressed button: pick, less like this, or confirm forget."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        user = _user(update)
        button = self._codec.read(user, query.data)
        if button.action is ButtonAction.FORGET:
            await self._recommender.forget(user)
            await query.answer(words.gettext(texts.FORGOTTEN_POPUP))
            await query.edit_message_text(render.escape(words.gettext(texts.FORGOTTEN)))
            return
        picked = button.action is ButtonAction.PICK
        act = self._recommender.pick if picked else self._recommender.dislike
        result = await act(user, button.movie_id, idempotency_key=f"telegram:{query.id}")
        await query.answer(shorten(texts.pick_result(words, result), POPUP_CHARS))
        message = query.message
        if result.applied and isinstance(message, Message):
            mark = "✓" if picked else "✗"
            keyboard = render.marked_keyboard(message.reply_markup, query.data, mark)
            if keyboard is not None:
                await query.edit_message_reply_markup(keyboard)

    async def _profile(self, update: Update, context: Context, words: Words) -> None:
        summary = await self._recommender.profile(_user(update))
        reply = render.Reply(render.profile_text(words, summary))
        await _reply_privately(update, context, words, reply, "profile")

    async def _subscribe(
        self, update: Update, context: Context, words: Words, args: list[str]
    ) -> None:
        """Subscribe (the picks will speak the user's language), unless the private chat
        the picks come to is not open."""
        weekday, hour, timezone = _slot(words, args)
        user = _user(update)
        slot = await self._services.subscriptions.subscribe(
            user, weekday, hour, timezone, words.language
        )
        reply = render.plain(texts.subscribed(words, slot))
        if not await _reply_privately(update, context, words, reply, "subscribe"):
            await self._services.subscriptions.unsubscribe(user)

    async def _words(self, update: Update) -> Words:
        """What to say to the sender of ``update``, in their language."""
        if update.effective_user is None:
            return _reported(update)
        return await self._services.words(_user(update), update.effective_user.language_code)

    async def _tell_notices(self, update: Update, context: Context, words: Words) -> None:
        """After an answer, what the user is to be told once (read again next time when
        the store does not answer)."""
        if update.effective_user is None:
            return
        try:
            notices = await self._services.subscriptions.take_notices(_user(update))
        except StoreUnavailableError:
            return
        link = render.start_link(context.bot.username, "subscribe")
        resume = texts.resume_by_link(words, link)
        for notice in sorted(notices):
            await _reply(update, render.plain(texts.notice(words, notice, resume)))

    async def error(self, update: object, context: Context) -> None:
        """What no handler answered: logged once with an error id, which the user gets."""
        error_id = report_unexpected(context.error or RuntimeError("unknown"), "telegram")
        if not isinstance(update, Update):
            return
        try:
            await _tell(update, texts.something_went_wrong(_reported(update), error_id))
        except TelegramError as failure:
            log.warning("could not tell a user that error %s happened: %s", error_id, failure)

    async def _search(self, update: Update, words: Words, text: str) -> None:
        user = _user(update)
        if not await self._services.searches.allow(user):
            await _reply(update, render.plain(words.gettext(texts.SLOW_DOWN)))
            return
        hits = await self._recommender.search(text, LIST_SIZE)
        reply = render.movie_list(words, texts.SEARCH_RESULTS, hits, user, self._codec)
        if not self._recommender.reads(text):
            hint = render.escape(words.gettext(texts.SEARCH_IN_ENGLISH))
            reply = render.Reply(f"{reply.text}\n\n<i>{hint}</i>", reply.keyboard)
        await _reply(update, reply)


def _user(update: Update) -> UserRef:
    if update.effective_user is None:
        raise UsageError(N_("I can only answer people."))
    return UserRef("telegram", str(update.effective_user.id))


def _reported(update: Update) -> Words:
    """The words of the language Telegram reports for the sender (no store is asked)."""
    user = update.effective_user
    return i18n.words(i18n.language_of(user.language_code if user else None))


SUBSCRIBE_USAGE = N_(
    "Usage: /subscribe [day] [hour] [time zone], for example /subscribe fri 18 Europe/Berlin"
)
STRENGTH_USAGE = N_("Strength is a number from 0 to 1, like /explore 0.5")
LANGUAGE_USAGE = N_("Usage: /language, or /language followed by en or ru")


def _days(words: Words) -> dict[str, int]:
    """What a user may type for each weekday: its English abbreviation, or its
    abbreviation or name in their language."""
    days = {name: number for number, name in enumerate(texts.WEEKDAY_ABBREVIATIONS)}
    for number, name in enumerate(texts.WEEKDAY_ABBREVIATIONS):
        days[words.pgettext("weekday abbreviation", name).lower()] = number
        days[words.pgettext("weekday", texts.WEEKDAYS[number]).lower()] = number
    return days


def _slot(words: Words, args: list[str]) -> tuple[int | None, int | None, str | None]:
    """``[day] [hour] [time zone]`` in any order: ``fri``, ``18``, ``Europe/Berlin``."""
    days = _days(words)
    weekday = hour = timezone = None
    for arg in args:
        if arg.isalpha() and (day := _day(days, arg.lower())) is not None:
            weekday = day
        elif arg.isdecimal() and len(arg) <= 2:
            hour = int(arg)
        elif "/" in arg or arg.upper() == "UTC":
            timezone = "UTC" if arg.upper() == "UTC" else arg
        else:
            raise UsageError(SUBSCRIBE_USAGE)
    return weekday, hour, timezone


def _strength(args: list[str]) -> float | None:
    if not args:
        return None
    try:
        strength = float(args[0])
    except ValueError:
        raise UsageError(STRENGTH_USAGE) from None
    if not math.isfinite(strength):
        raise UsageError(STRENGTH_USAGE)
    return strength


async def _reply(update: Update, reply: render.Reply) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(reply.text, parse_mode="HTML", reply_markup=reply.keyboard)


def _day(days: dict[str, int], typed: str) -> int | None:
    """The weekday a typed word names: an abbreviation, or a word that starts with one
    (``friday``, ``пятница``)."""
    return next((number for name, number in days.items() if typed.startswith(name)), None)


async def _reply_privately(
    update: Update, context: Context, words: Words, reply: render.Reply, command: str
) -> bool:
    """``reply`` in the user's private chat, with a note where ``command`` was asked when
    that was a group; ``False`` (and how to open it) when the private chat is not open."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == ChatType.PRIVATE:
        await _reply(update, reply)
        return True
    try:
        await context.bot.send_message(
            user.id, reply.text, parse_mode="HTML", reply_markup=reply.keyboard
        )
    except (Forbidden, BadRequest) as error:
        if isinstance(error, BadRequest) and "chat not found" not in error.message.lower():
            raise
        link = render.start_link(context.bot.username, command)
        await _reply(update, render.plain(texts.private_chat_needed(words, command, link)))
        return False
    await _reply(update, render.plain(words.gettext(texts.SENT_PRIVATELY[command])))
    return True


async def _tell(update: Update, text: str) -> None:
    """Plain ``text``: as the answer to a pressed button, or as a message."""
    if update.callback_query is not None:
        await update.callback_query.answer(shorten(text, POPUP_CHARS))
    else:
        await _reply(update, render.plain(text))
