"""Movie night on Telegram: /movienight in a group, its buttons, and a native poll.

The vote is a non-anonymous poll, so Telegram tells the bot who voted what (poll_answer
updates); only the votes of members count. The opener closes it with the button under
the poll, or it closes by itself: :meth:`TelegramMovieNight.run_due` moves on every
lobby past its deadline, and is called every few seconds.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    PollAnswerHandler,
)

from adapters import i18n, texts
from adapters import movienight_texts as night_texts
from adapters.buttons import NIGHT_PREFIX, NightAction, NightButton
from adapters.i18n import N_, Words
from adapters.movienight_texts import group_words
from adapters.observe import observed
from adapters.services import ChatServices
from adapters.telegram import movienight_render as render
from adapters.telegram.handlers import POPUP_CHARS
from adapters.telegram.render import Reply
from adapters.texts import UsageError, shorten
from core.errors import EmbedderError, InvalidRequestError, StoreUnavailableError
from core.lobbies import ChatRef, Lobby, Member
from core.models import UserRef
from core.movienight import MovieNights, NightCancelled, NightDecided, NightStarted

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Any, Update, Context, Words], Coroutine[Any, Any, None]]
Answered = Callable[[Any, Update, Context], Coroutine[Any, Any, None]]
PLATFORM = "telegram"


def answered(handler: Handler) -> Answered:
    """Answer in the language of the one who sent the update, and turn refusals and
    outages into a short answer: to the press, or in the chat."""

    @functools.wraps(handler)
    async def answering(self: TelegramMovieNight, update: Update, context: Context) -> None:
        words = await self._words(update)
        try:
            with observed(self._services.observer, PLATFORM, handler.__name__):
                await handler(self, update, context, words)
        except InvalidRequestError as error:
            await _tell(update, night_texts.night_refusal(words, error))
        except (StoreUnavailableError, EmbedderError) as error:
            await _tell(update, texts.unavailable(words, error))

    return answering


class TelegramMovieNight:
    """``/movienight``, the presses on its buttons, and the votes in its polls."""

    def __init__(self, services: ChatServices, nights: MovieNights) -> None:
        self._services = services
        self._codec = services.codec
        self._nights = nights

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """What to register, before any catch-all button handler."""
        return [
            CommandHandler("movienight", self.movienight),
            CallbackQueryHandler(self.night_button, pattern=f"^{NIGHT_PREFIX}"),
            PollAnswerHandler(self.poll_answer),
        ]

    @answered
    async def movienight(self, update: Update, context: Context, words: Words) -> None:
        """/movienight: a lobby in the group, with "I'm in" and "Start"."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None or chat.type == ChatType.PRIVATE:
            await _tell(update, words.gettext(night_texts.NIGHT_IN_GROUPS))
            return
        lobby = await self._nights.open(ChatRef(PLATFORM, str(chat.id)), _member(update, words))
        reply = render.lobby(words, lobby, self._codec, self._nights.settings)
        sent = await message.reply_text(
            reply.text, parse_mode=ParseMode.HTML, reply_markup=reply.keyboard
        )
        await self._nights.attach(lobby.lobby_id, lobby_message=str(sent.message_id))

    @answered
    async def night_button(self, update: Update, context: Context, words: Words) -> None:
        """A press on a movie night's message: join, start, vote, close, watched; the
        answer to the press speaks the presser's language, the group's messages the
        opener's."""
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        chat = ChatRef(PLATFORM, str(query.message.chat.id))
        press = self._codec.read_night(chat, query.data)
        user = _member(update, words).user
        match press.action:
            case NightAction.JOIN:
                await self._join(update, words, chat, press)
            case NightAction.START:
                started = await self._nights.start(press.lobby_id, chat, user)
                await query.answer()
                lobby = started.lobby
                await _edit(query.message, render.started_lobby(group_words(lobby), lobby))
                await self._present(context.bot, started)
            case NightAction.VOTE:
                voted = await self._nights.vote(press.lobby_id, chat, user, press.option)
                await _tell(update, night_texts.voted(words, voted.changed, press.option))
            case NightAction.CLOSE:
                decision = await self._nights.close(press.lobby_id, chat, user)
                await query.answer()
                await self._announce(context.bot, decision)
            case NightAction.WATCHED:
                key = f"{PLATFORM}:{query.id}"
                result = await self._nights.watched(press.lobby_id, chat, user, key)
                await _tell(update, texts.pick_result(words, result))

    async def poll_answer(self, update: Update, context: Context) -> None:
        """A vote in a movie night's poll; a vote that does not count (a stranger's, a
        late one) is dropped, as the poll gives no way to answer it."""
        answer = update.poll_answer
        if answer is None or answer.user is None:
            return
        user = UserRef(PLATFORM, str(answer.user.id))
        option = answer.option_ids[0] if answer.option_ids else None
        try:
            with observed(self._services.observer, PLATFORM, "vote"):
                await self._nights.vote_in_poll(PLATFORM, answer.poll_id, user, option)
        except InvalidRequestError as error:
            log.info("a vote in poll %s did not count: %s", answer.poll_id, error)
        except StoreUnavailableError as error:
            log.warning("a vote in poll %s was lost: %s", answer.poll_id, error)

    async def run_due(self, bot: Bot) -> None:
        """Start, cancel or close every Telegram lobby past its deadline, and say so."""
        for step in await self._nights.advance_due(PLATFORM):
            try:
                await self._said(bot, step)
            except TelegramError as error:
                log.warning("could not tell group %s: %s", step.lobby.chat.chat_id, error)

    async def _said(self, bot: Bot, step: NightStarted | NightCancelled | NightDecided) -> None:
        lobby = step.lobby
        words = group_words(lobby)
        match step:
            case NightStarted():
                await _edit_lobby(bot, lobby, render.started_lobby(words, lobby))
                await self._present(bot, step)
            case NightCancelled():
                await _edit_lobby(bot, lobby, render.cancelled_lobby(words))
            case NightDecided():
                await self._announce(bot, step)

    async def _join(self, update: Update, words: Words, chat: ChatRef, press: NightButton) -> None:
        query = update.callback_query
        assert query is not None
        joined = await self._nights.join(press.lobby_id, chat, _member(update, words))
        answer = night_texts.JOINED if joined.joined else night_texts.ALREADY_JOINED
        await _tell(update, words.gettext(answer))
        if joined.joined:
            lobby = joined.lobby
            reply = render.lobby(group_words(lobby), lobby, self._codec, self._nights.settings)
            await _edit(query.message, reply)

    async def _present(self, bot: Bot, started: NightStarted) -> None:
        """The group's list, the poll that votes on it, and a word to those left out."""
        words = group_words(started.lobby)
        chat_id = int(started.lobby.chat.chat_id)
        listed = render.group_list(words, started)
        await bot.send_message(chat_id, listed.text, parse_mode=ParseMode.HTML)
        poll = await bot.send_poll(
            chat_id,
            words.gettext(night_texts.VOTE_QUESTION),
            render.poll_options(started),
            is_anonymous=False,
            allows_multiple_answers=False,
            reply_markup=render.close_keyboard(words, started.lobby, self._codec),
        )
        assert poll.poll is not None
        await self._nights.attach(
            started.lobby.lobby_id, poll_id=poll.poll.id, vote_message=str(poll.message_id)
        )
        await self._tell_left_out(bot, started)

    async def _tell_left_out(self, bot: Bot, started: NightStarted) -> None:
        """Tell each member without picks, privately and in their language; when one
        cannot be reached (they never opened a private chat with the bot), say it in the
        group, naming nobody."""
        unreachable = False
        for member in started.left_out:
            words = await self._services.words(member.user, member.language)
            try:
                told = words.gettext(night_texts.NO_PICKS_FOR_NIGHT)
                await bot.send_message(int(member.user.user_id), told)
            except (Forbidden, BadRequest):
                unreachable = True
        if unreachable:
            reply = render.picks_first_for_others(group_words(started.lobby), bot.username)
            chat_id = int(started.lobby.chat.chat_id)
            await bot.send_message(chat_id, reply.text, parse_mode=ParseMode.HTML)

    async def _announce(self, bot: Bot, decision: NightDecided) -> None:
        """Close the poll, then name the winner with its "watched" button."""
        lobby = decision.lobby
        chat_id = int(lobby.chat.chat_id)
        if lobby.vote_message is not None:
            try:
                await bot.stop_poll(chat_id, int(lobby.vote_message))
            except BadRequest as error:  # closed or deleted already: the vote is decided
                log.info("poll of movie night %s not stopped: %s", lobby.lobby_id, error)
        reply = render.decided(group_words(lobby), decision, self._codec)
        await bot.send_message(
            chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=reply.keyboard
        )

    async def _words(self, update: Update) -> Words:
        """What to say to the sender of ``update``, in their language."""
        user = update.effective_user
        if user is None:
            return i18n.words(i18n.SOURCE_LANGUAGE)
        return await self._services.words(UserRef(PLATFORM, str(user.id)), user.language_code)


def _member(update: Update, words: Words) -> Member:
    """The sender of ``update``, who speaks ``words``' language."""
    user = update.effective_user
    if user is None:
        raise UsageError(N_("I can only answer people."))
    return Member(UserRef(PLATFORM, str(user.id)), user.full_name, words.language)


async def _edit_lobby(bot: Bot, lobby: Lobby, reply: Reply) -> None:
    """Edit the lobby's message, or send ``reply`` when its id was never kept."""
    chat_id = int(lobby.chat.chat_id)
    if lobby.lobby_message is None:
        await bot.send_message(chat_id, reply.text, parse_mode=ParseMode.HTML)
        return
    await bot.edit_message_text(
        reply.text, chat_id, int(lobby.lobby_message), parse_mode=ParseMode.HTML
    )


async def _edit(message: object, reply: Reply) -> None:
    if isinstance(message, Message):
        await message.edit_text(reply.text, parse_mode=ParseMode.HTML, reply_markup=reply.keyboard)


async def _tell(update: Update, text: str) -> None:
    """``text``: as the answer to a pressed button, or as a message."""
    if update.callback_query is not None:
        await update.callback_query.answer(shorten(text, POPUP_CHARS))
        return
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)
