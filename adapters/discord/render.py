"""What the bot says on Discord: embeds and button rows, built without I/O.

Text from the catalog or a user is escaped for Discord's markdown, and the bot sends
every message with mentions disabled, so a title cannot ping anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters import card_texts, texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.discord.components import CUSTOM_ID, PayloadButton
from adapters.i18n import Words
from adapters.links import movie_page
from adapters.texts import shorten
from core.models import Movie, Page, ProfileSummary, Recommendation, SearchHit, UserRef

COLOUR = discord.Colour.from_rgb(229, 160, 13)
# Five embeds of at most ~1,100 characters, markdown escapes included, stay under
# Discord's 6,000 for all the embeds of a message.
TITLE_CHARS = 150
OVERVIEW_CHARS = 200
REASON_CHARS = 150
FOOTER_CHARS = 100
LABEL_CHARS = 40
MAX_MOVIES = 5  # a row of buttons each, and Discord allows five rows
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
    """A titled list of movie cards (``title`` a message id), an embed each (linked to
    the movie's page when known), and a row per movie of a pick, a less-like-this and a
    like-this button."""
    return _cards(words, words.gettext(title), found, user, codec)


def page(words: Words, shown: Page, user: UserRef, codec: ButtonCodec) -> Reply:
    """A page of a kept list, numbered from its place in the list, with "◂ back" and
    "more ▸" after the last movie's buttons where there is more (Discord allows five
    rows, which the five movies take)."""
    back, more = codec.page_payloads(user, shown)
    labels = (card_texts.BACK_BUTTON, back), (card_texts.MORE_BUTTON, more)
    row = len(shown.items) - 1
    nav = [
        PayloadButton(payload, words.gettext(label), discord.ButtonStyle.primary, row=row)
        for label, payload in labels
        if payload is not None and shown.items
    ]
    title = card_texts.list_title(words, shown)
    return _cards(words, title, shown.items, user, codec, shown.offset + 1, nav)


def movie_embed(words: Words, number: int, movie: Movie, note: str) -> discord.Embed:
    """Title and year (linked to the movie's page when known), rating and runtime, a
    short overview and why it was chosen; the genres below."""
    facts = card_texts.facts(words, movie)
    lines = [escape(facts)] if facts else []
    if movie.overview:
        lines.append(escape(shorten(movie.overview, OVERVIEW_CHARS)))
    if note:
        lines.append(f"*{escape(shorten(note, REASON_CHARS))}*")
    web = movie_page(movie)
    embed = discord.Embed(
        title=shorten(f"{number}. {movie.label}", TITLE_CHARS),
        url=None if web is None else web.url,
        description="\n".join(lines) or None,
        colour=COLOUR,
    )
    if movie.genres:
        embed.set_footer(text=shorten(", ".join(movie.genres[:4]), FOOTER_CHARS))
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


def _cards(
    words: Words,
    title: str,
    found: Sequence[SearchHit | Recommendation],
    user: UserRef,
    codec: ButtonCodec,
    first: int = 1,
    nav: Sequence[PayloadButton] = (),
) -> Reply:
    """``title`` (already in the user's language) over an embed and a row of buttons
    per movie."""
    heading = f"**{escape(shorten(title, TITLE_CHARS))}**"
    if not found:
        return Reply(f"{heading}\n{escape(words.gettext(texts.EMPTY_LIST))}")
    view = discord.ui.View(timeout=None)
    embeds = []
    for row, (movie, note) in enumerate(texts.listed(words, found[:MAX_MOVIES])):
        embeds.append(movie_embed(words, first + row, movie, note))
        for button in _movie_buttons(words, first + row, row, movie, user, codec):
            view.add_item(button)
    for button in nav:
        view.add_item(button)
    return Reply(heading, embeds, view)


def _movie_buttons(
    words: Words, number: int, row: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[PayloadButton]:
    pick, dislike = codec.movie_payloads(user, movie.movie_id)
    similar = codec.write(user, Button(ButtonAction.SIMILAR, movie.movie_id))
    label = texts.pick_button(number, movie.title, LABEL_CHARS)
    less = words.gettext(texts.LESS_LIKE_THIS_BUTTON)
    like_this = words.gettext(card_texts.LIKE_THIS_BUTTON)
    return [
        PayloadButton(pick, label, discord.ButtonStyle.success, row=row),
        PayloadButton(dislike, less, discord.ButtonStyle.secondary, row=row),
        PayloadButton(similar, like_this, discord.ButtonStyle.secondary, row=row),
    ]
