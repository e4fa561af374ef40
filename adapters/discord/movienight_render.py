"""What a movie night says on Discord: the lobby, the group's list with its vote buttons
and their live count, and the winner, built without I/O.

Its buttons carry a movie night's signed payload (:mod:`adapters.buttons`) in a
``custom_id`` of their own prefix, so that a press reaches the movie night's cog in any
process, after any restart.
"""

from __future__ import annotations

import re

import discord

from adapters import texts
from adapters.buttons import ButtonCodec, NightAction, NightButton
from adapters.discord.components import PayloadButton
from adapters.discord.render import Reply, escape, movie_embed
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


def lobby(opened: Lobby, codec: ButtonCodec, settings: NightSettings) -> Reply:
    """The lobby with its "I'm in" and "Start" buttons."""
    view = discord.ui.View(timeout=None)
    view.add_item(_button(texts.JOIN_BUTTON, opened, codec, NightAction.JOIN, style=SUCCESS))
    view.add_item(_button(texts.START_BUTTON, opened, codec, NightAction.START))
    return Reply(lobby_text(opened, settings), view=view)


def lobby_text(shown: Lobby, settings: NightSettings) -> str:
    """The lobby's text alone, for an edit that keeps its buttons."""
    return escape(texts.lobby_text(shown, settings))


def started_lobby(started: Lobby) -> Reply:
    """The lobby once the night started: who is in, no buttons."""
    return Reply(escape(texts.night_started(started)))


def cancelled_lobby() -> Reply:
    """The lobby of a night that started by itself with too few people."""
    return Reply(escape(texts.NIGHT_CANCELLED))


def group_list(started: NightStarted, codec: ButtonCodec) -> Reply:
    """The group's list, an embed per movie with how it fits, and the vote's buttons."""
    names = [member.name for member in started.combined]
    title = texts.group_list_title(len(started.combined), len(started.lobby.members))
    embeds = [
        movie_embed(number, pick.movie, texts.fit_line(pick, names))
        for number, pick in enumerate(started.picks, start=1)
    ]
    content = f"**{escape(title)}**\n{texts.VOTE_QUESTION}"
    return Reply(content, embeds, vote_view(started.lobby, codec))


def vote_view(voting: Lobby, codec: ButtonCodec) -> discord.ui.View:
    """A button per option with its votes so far, and the one that closes the vote."""
    view = discord.ui.View(timeout=None)
    for option, count in enumerate(voting.counts()):
        label = f"{option + 1} · {texts.counted(count, 'vote')}"
        view.add_item(_button(label, voting, codec, NightAction.VOTE, option, row=0))
    view.add_item(_button(texts.CLOSE_VOTE_BUTTON, voting, codec, NightAction.CLOSE, row=1))
    return view


def decided(decision: NightDecided, codec: ButtonCodec) -> Reply:
    """The winner, with the button that marks it watched."""
    view = discord.ui.View(timeout=None)
    watched = _button(texts.WATCHED_BUTTON, decision.lobby, codec, NightAction.WATCHED)
    view.add_item(watched)
    return Reply(escape(texts.night_decided(decision.winner, decision.lobby)), view=view)


def vote_closed(decision: NightDecided) -> str:
    """What the vote's message says once it is closed (its buttons are gone)."""
    return escape(texts.vote_closed(decision.winner))


PICKS_FIRST = escape(texts.picks_first_for_others(texts.PICK_BY_SEARCH))


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
