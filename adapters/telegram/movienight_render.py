"""What a movie night says on Telegram: the lobby, the group's list, the poll and the
winner, as HTML texts and inline keyboards built without I/O, in the language of
``words``."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters import movienight_texts as night_texts
from adapters.buttons import ButtonCodec, NightAction, NightButton
from adapters.i18n import Words
from adapters.telegram.render import Reply, card_text, escape
from core.lobbies import Lobby, NightSettings
from core.movienight import NightDecided, NightStarted

POLL_OPTION_CHARS = 100  # Telegram's limit on a poll option


def lobby(words: Words, opened: Lobby, codec: ButtonCodec, settings: NightSettings) -> Reply:
    """The lobby with its "I'm in" and "Start" buttons."""
    join = _button(words.gettext(night_texts.JOIN_BUTTON), opened, codec, NightAction.JOIN)
    start = _button(words.gettext(night_texts.START_BUTTON), opened, codec, NightAction.START)
    text = escape(night_texts.lobby_text(words, opened, settings))
    return Reply(text, InlineKeyboardMarkup([[join, start]]))


def started_lobby(words: Words, started: Lobby) -> Reply:
    """The lobby once the night started: who is in, no buttons."""
    return Reply(escape(night_texts.night_started(words, started)))


def cancelled_lobby(words: Words) -> Reply:
    """The lobby of a night that started by itself with too few people."""
    return Reply(escape(words.gettext(night_texts.NIGHT_CANCELLED)))


def group_list(words: Words, started: NightStarted) -> Reply:
    """The group's list: each movie's card with how it fits the members whose tastes
    made it."""
    names = [member.name for member in started.combined]
    members = len(started.lobby.members)
    title = night_texts.group_list_title(words, len(started.combined), members)
    blocks = [f"<b>{escape(title)}</b>"]
    blocks += [
        card_text(words, pick.movie, number, night_texts.fit_line(words, pick, names))
        for number, pick in enumerate(started.picks, start=1)
    ]
    return Reply("\n\n".join(blocks))


def poll_options(started: NightStarted) -> list[str]:
    """The options of the vote's poll, numbered as the list."""
    return [
        night_texts.vote_label(number, pick.movie, POLL_OPTION_CHARS)
        for number, pick in enumerate(started.picks, start=1)
    ]


def close_keyboard(words: Words, voting: Lobby, codec: ButtonCodec) -> InlineKeyboardMarkup:
    """The button under the poll that closes the vote (the opener's)."""
    label = words.gettext(night_texts.CLOSE_VOTE_BUTTON)
    return InlineKeyboardMarkup([[_button(label, voting, codec, NightAction.CLOSE)]])


def decided(words: Words, decision: NightDecided, codec: ButtonCodec) -> Reply:
    """The winner, with the button that marks it watched."""
    label = words.gettext(night_texts.WATCHED_BUTTON)
    watched = _button(label, decision.lobby, codec, NightAction.WATCHED)
    text = escape(night_texts.night_decided(words, decision.winner, decision.lobby))
    return Reply(text, InlineKeyboardMarkup([[watched]]))


def picks_first_for_others(words: Words, bot_username: str) -> Reply:
    """Said in the group when members without picks could not be told privately."""
    link = f"https://t.me/{bot_username}"
    return Reply(escape(night_texts.picks_first_by_link(words, link)))


def _button(
    label: str, night: Lobby, codec: ButtonCodec, action: NightAction
) -> InlineKeyboardButton:
    payload = codec.write_night(night.chat, NightButton(action, night.lobby_id))
    return InlineKeyboardButton(label, callback_data=payload)
