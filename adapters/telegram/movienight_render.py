"""What a movie night says on Telegram: the lobby, the group's list, the poll and the
winner, as HTML texts and inline keyboards built without I/O."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters import texts
from adapters.buttons import ButtonCodec, NightAction, NightButton
from adapters.telegram.render import Reply, escape
from adapters.texts import shorten
from core.group import GroupPick
from core.lobbies import Lobby, NightSettings
from core.movienight import NightDecided, NightStarted

TITLE_CHARS = 200
OVERVIEW_CHARS = 140
POLL_OPTION_CHARS = 100  # Telegram's limit on a poll option


def lobby(opened: Lobby, codec: ButtonCodec, settings: NightSettings) -> Reply:
    """The lobby with its "I'm in" and "Start" buttons."""
    join = _button(texts.JOIN_BUTTON, opened, codec, NightAction.JOIN)
    start = _button(texts.START_BUTTON, opened, codec, NightAction.START)
    text = escape(texts.lobby_text(opened, settings))
    return Reply(text, InlineKeyboardMarkup([[join, start]]))


def started_lobby(started: Lobby) -> Reply:
    """The lobby once the night started: who is in, no buttons."""
    return Reply(escape(texts.night_started(started)))


def cancelled_lobby() -> Reply:
    """The lobby of a night that started by itself with too few people."""
    return Reply(escape(texts.NIGHT_CANCELLED))


def group_list(started: NightStarted) -> Reply:
    """The group's list: each movie with how it fits the members whose tastes made it."""
    names = [member.name for member in started.combined]
    title = texts.group_list_title(len(started.combined), len(started.lobby.members))
    blocks = [f"<b>{escape(title)}</b>"]
    blocks += [_movie_block(n, pick, names) for n, pick in enumerate(started.picks, start=1)]
    return Reply("\n\n".join(blocks))


def poll_options(started: NightStarted) -> list[str]:
    """The options of the vote's poll, numbered as the list."""
    return [
        texts.vote_label(number, pick.movie, POLL_OPTION_CHARS)
        for number, pick in enumerate(started.picks, start=1)
    ]


def close_keyboard(voting: Lobby, codec: ButtonCodec) -> InlineKeyboardMarkup:
    """The button under the poll that closes the vote (the opener's)."""
    return InlineKeyboardMarkup(
        [[_button(texts.CLOSE_VOTE_BUTTON, voting, codec, NightAction.CLOSE)]]
    )


def decided(decision: NightDecided, codec: ButtonCodec) -> Reply:
    """The winner, with the button that marks it watched."""
    watched = _button(texts.WATCHED_BUTTON, decision.lobby, codec, NightAction.WATCHED)
    text = escape(texts.night_decided(decision.winner, decision.lobby))
    return Reply(text, InlineKeyboardMarkup([[watched]]))


def picks_first_for_others(bot_username: str) -> Reply:
    """Said in the group when members without picks could not be told privately."""
    how = texts.pick_by_link(f"https://t.me/{bot_username}")
    return Reply(escape(texts.picks_first_for_others(how)))


def _movie_block(number: int, pick: GroupPick, names: list[str]) -> str:
    movie = pick.movie
    lines = [f"<b>{number}. {escape(shorten(movie.label, TITLE_CHARS))}</b>"]
    if movie.genres:
        lines[0] += f" · {escape(', '.join(movie.genres[:3]))}"
    if movie.overview:
        lines.append(escape(shorten(movie.overview, OVERVIEW_CHARS)))
    fit = texts.fit_line(pick, names)
    if fit:
        lines.append(f"<i>{escape(shorten(fit, TITLE_CHARS))}</i>")
    return "\n".join(lines)


def _button(
    label: str, night: Lobby, codec: ButtonCodec, action: NightAction
) -> InlineKeyboardButton:
    payload = codec.write_night(night.chat, NightButton(action, night.lobby_id))
    return InlineKeyboardButton(label, callback_data=payload)
