"""What the bot says on Discord: embeds and button rows, built without I/O.

Text from the catalog or a user is escaped for Discord's markdown, and the bot sends
every message with mentions disabled, so a title cannot ping anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.discord.components import CUSTOM_ID, PayloadButton
from adapters.i18n import Words
from adapters.texts import shorten
from core.models import Movie, ProfileSummary, Recommendation, SearchHit, UserRef

COLOUR = discord.Colour.from_rgb(229, 160, 13)
OVERVIEW_CHARS = 200
REASON_CHARS = 200
LABEL_CHARS = 40
# Discord has no /start: people meet the bot through its slash commands.
COMMANDS = tuple(command for command in texts.COMMANDS if command.name != "start")


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: text, embeds and, maybe, buttons."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None

    def message(self) -> dict[str, Any]:
        """Keyword arguments for ``send`` with mentions disabled."""
        message: dict[str, Any] = {
            "content": self.content or None,
            "embeds": self.embeds,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if self.view is not None:
            message["view"] = self.view
        return message


def text(content: str) -> Reply:
    """A plain message."""
    return Reply(content)


def help_reply(words: Words) -> Reply:
    """Every command with its description (under the names Discord shows the user)."""
    lines = [
        f"`/{words.pgettext('command', command.name)}` — "
        f"{escape(texts.described(words, command.name))}"
        for command in COMMANDS
    ]
    title = words.gettext(texts.COMMANDS_TITLE)
    embed = discord.Embed(title=title, description="\n".join(lines), colour=COLOUR)
    return Reply(embeds=[embed])


def movie_list(
    words: Words,
    title: str,
    found: Sequence[SearchHit | Recommendation],
    user: UserRef,
    codec: ButtonCodec,
) -> Reply:
    """A titled list of movies (``title`` a message id), an embed each with why it is
    there, and a row of a pick and a less-like-this button per movie; at most five."""
    heading = f"**{escape(words.gettext(title))}**"
    if not found:
        return Reply(f"{heading}\n{escape(words.gettext(texts.EMPTY_LIST))}")
    view = discord.ui.View(timeout=None)
    embeds = []
    for number, (movie, note) in enumerate(texts.listed(words, found[:5]), start=1):
        embeds.append(movie_embed(number, movie, note))
        for button in _movie_buttons(words, number, movie, user, codec):
            view.add_item(button)
    return Reply(heading, embeds, view)


def movie_embed(number: int, movie: Movie, note: str) -> discord.Embed:
    """Title and year, genres, a one-line overview and why it was chosen."""
    lines = [escape(shorten(movie.overview, OVERVIEW_CHARS))] if movie.overview else []
    if note:
        lines.append(f"*{escape(shorten(note, REASON_CHARS))}*")
    embed = discord.Embed(
        title=shorten(f"{number}. {movie.label}", 256),
        description="\n".join(lines) or None,
        colour=COLOUR,
    )
    if movie.genres:
        embed.set_footer(text=", ".join(movie.genres[:4]))
    return embed


def profile_reply(words: Words, summary: ProfileSummary) -> Reply:
    """``/profile``: picks so far, top genres, last picks."""
    if summary.pick_count == 0:
        return Reply(escape(words.gettext(texts.NO_PICKS_YET)))
    picks = texts.picks(words, summary.pick_count)
    title = f"{picks}, {texts.less_like_this(words, summary.dislike_count)}"
    embed = discord.Embed(title=title, colour=COLOUR)
    if summary.top_genres:
        genres = escape(", ".join(summary.top_genres))
        embed.add_field(name=words.gettext(texts.TOP_GENRES), value=genres)
    last = escape(shorten(", ".join(movie.label for movie in summary.last_picks), 1000))
    embed.add_field(name=words.gettext(texts.LAST_PICKS), value=last, inline=False)
    return Reply(embeds=[embed])


def forget_confirmation(words: Words, user: UserRef, codec: ButtonCodec) -> Reply:
    """The question ``/forget`` asks before deleting anything."""
    view = discord.ui.View(timeout=None)
    payload = codec.write(user, Button(ButtonAction.FORGET))
    label = words.gettext(texts.FORGET_BUTTON)
    view.add_item(PayloadButton(payload, label, discord.ButtonStyle.danger))
    return Reply(escape(words.gettext(texts.FORGET_QUESTION)), view=view)


def marked_view(
    message: discord.Message | None, custom_id: str, mark: str
) -> discord.ui.View | None:
    """The buttons of ``message`` with the pressed one's label prefixed by ``mark``;
    ``None`` when nothing changes."""
    if message is None:
        return None
    view, changed = discord.ui.View(timeout=None), False
    for item in discord.ui.View.from_message(message, timeout=None).children:
        match = CUSTOM_ID.fullmatch(getattr(item, "custom_id", None) or "")
        if not isinstance(item, discord.ui.Button) or match is None:
            continue
        label = item.label or ""
        if item.custom_id == custom_id and not label.startswith(mark):
            label, changed = f"{mark} {label}"[:80], True
        view.add_item(PayloadButton(match["payload"], label, item.style, row=item.row))
    return view if changed else None


def escape(value: str) -> str:
    """Text shown literally: no markdown, no mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(value))


def _movie_buttons(
    words: Words, number: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[PayloadButton]:
    pick, dislike = codec.movie_payloads(user, movie.movie_id)
    label = texts.pick_button(number, movie.title, LABEL_CHARS)
    less = words.gettext(texts.LESS_LIKE_THIS_BUTTON)
    row = number - 1
    return [
        PayloadButton(pick, label, discord.ButtonStyle.success, row=row),
        PayloadButton(dislike, less, discord.ButtonStyle.secondary, row=row),
    ]
