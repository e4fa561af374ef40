"""What a movie night says on Discord: the lobby, the group's list with its vote buttons
and their live count, and the winner, built without I/O in the language of ``words``.

Its buttons carry a movie night's signed payload (:mod:`adapters.buttons`) in a
``custom_id`` of their own prefix, so that a press reaches the movie night's cog in any
process, after any restart.
"""

from __future__ import annotations

import re

import discord

from adapters import movienight_texts as night_texts
from adapters.buttons import ButtonCodec, NightAction, NightButton
from adapters.discord.components import PayloadButton
from adapters.discord.render import Reply, escape, movie_embed
from adapters.i18n import Words
from core.lobbies import Lobby, NightSettings
from core.movienight import NightDecided, NightStarted

NIGHT_PREFIX = "mn:"
NIGHT_CUSTOM_ID = re.compile(rf"{NIGHT_PREFIX}(?P<payload>[!-~]{{1,96}})")
NIGHT_COG = "MovieNight"
SUCCESS = discord.ButtonStyle.success


class NightPayloadButton(PayloadButton, template=NIGHT_CUSTOM_ID):
    """A movie night's button; a press goes to the cog named ``NIGHT_COG``."""

    prefix = NIGHT_PREFIX
    handler_cog = NIGHT_COG


def lobby(words: Words, opened: Lobby, codec: ButtonCodec, settings: NightSettings) -> Reply:
    """The lobby with its "I'm in" and "Start" buttons."""
    view = discord.ui.View(timeout=None)
    join, start = words.gettext(night_texts.JOIN_BUTTON), words.gettext(night_texts.START_BUTTON)
    view.add_item(_button(join, opened, codec, NightAction.JOIN, style=SUCCESS))
    view.add_item(_button(start, opened, codec, NightAction.START))
    return Reply(lobby_text(words, opened, settings), view=view)


def lobby_text(words: Words, shown: Lobby, settings: NightSettings) -> str:
    """The lobby's text alone, for an edit that keeps its buttons."""
    return escape(night_texts.lobby_text(words, shown, settings))


def started_lobby(words: Words, started: Lobby) -> Reply:
    """The lobby once the night started: who is in, no buttons."""
    return Reply(escape(night_texts.night_started(words, started)))


def cancelled_lobby(words: Words) -> Reply:
    """The lobby of a night that started by itself with too few people."""
    return Reply(escape(words.gettext(night_texts.NIGHT_CANCELLED)))


def group_list(words: Words, started: NightStarted, codec: ButtonCodec) -> Reply:
    """The group's list, an embed per movie with how it fits, and the vote's buttons."""
    names = [member.name for member in started.combined]
    members = len(started.lobby.members)
    title = night_texts.group_list_title(words, len(started.combined), members)
    embeds = [
        movie_embed(words, number, pick.movie, night_texts.fit_line(words, pick, names))
        for number, pick in enumerate(started.picks, start=1)
    ]
    question = escape(words.gettext(night_texts.VOTE_QUESTION))
    return Reply(f"**{escape(title)}**\n{question}", embeds, vote_view(words, started.lobby, codec))


def vote_view(words: Words, voting: Lobby, codec: ButtonCodec) -> discord.ui.View:
    """A button per option with its votes so far, and the one that closes the vote."""
    view = discord.ui.View(timeout=None)
    for option, count in enumerate(voting.counts()):
        label = night_texts.vote_count(words, option, count)
        view.add_item(_button(label, voting, codec, NightAction.VOTE, option, row=0))
    close = words.gettext(night_texts.CLOSE_VOTE_BUTTON)
    view.add_item(_button(close, voting, codec, NightAction.CLOSE, row=1))
    return view


def decided(words: Words, decision: NightDecided, codec: ButtonCodec) -> Reply:
    """The winner, with the button that marks it watched."""
    view = discord.ui.View(timeout=None)
    label = words.gettext(night_texts.WATCHED_BUTTON)
    view.add_item(_button(label, decision.lobby, codec, NightAction.WATCHED))
    text = night_texts.night_decided(words, decision.winner, decision.lobby)
    return Reply(escape(text), view=view)


def vote_closed(words: Words, decision: NightDecided) -> str:
    """What the vote's message says once it is closed (its buttons are gone)."""
    return escape(night_texts.vote_closed(words, decision.winner))


def picks_first(words: Words) -> str:
    """Said in the channel when members without picks could not be told privately."""
    return escape(words.gettext(night_texts.PICKS_FIRST_BY_SEARCH))


def _button(
    label: str,
    night: Lobby,
    codec: ButtonCodec,
    action: NightAction,
    option: int = 0,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    row: int | None = None,
) -> NightPayloadButton:
    payload = codec.write_night(night.chat, NightButton(action, night.lobby_id, option))
    return NightPayloadButton(payload, label, style, row=row)
