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
from core.models import Movie, ProfileSummary, Recommendation, SearchHit, UserRef

COLOUR = discord.Colour.from_rgb(229, 160, 13)
OVERVIEW_CHARS = 200
REASON_CHARS = 200
LABEL_CHARS = 40
COMMANDS = (
    ("search", "find movies by title, plot or mood"),
    ("recommend", "movies for your taste"),
    ("explore", "a step outside your taste (strength 0-1)"),
    ("profile", "what I know about your taste"),
    ("undo", "take back your last pick or less-like-this"),
    ("forget", "delete everything I know about you"),
    ("subscribe", "weekly exploratory picks by DM"),
    ("unsubscribe", "stop the weekly picks"),
    ("help", "every command"),
)


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


def help_reply() -> Reply:
    """Every command with its description."""
    lines = [f"`/{name}` — {description}" for name, description in COMMANDS]
    embed = discord.Embed(title="Commands", description="\n".join(lines), colour=COLOUR)
    return Reply(embeds=[embed])


def search_reply(hits: Sequence[SearchHit], title: str, user: UserRef, codec: ButtonCodec) -> Reply:
    """Search results: an embed per movie, a pick and a less-like-this button each."""
    return movie_list(title, [(hit.movie, "") for hit in hits], user, codec)


def recommendations_reply(
    recommendations: Sequence[Recommendation], title: str, user: UserRef, codec: ButtonCodec
) -> Reply:
    """Recommendations, each with its reason and buttons."""
    return movie_list(title, [(r.movie, r.reason) for r in recommendations], user, codec)


def movie_list(
    title: str, movies: Sequence[tuple[Movie, str]], user: UserRef, codec: ButtonCodec
) -> Reply:
    """A titled list of movies (with reasons) and a row of buttons per movie; at most five."""
    if not movies:
        return Reply(f"**{escape(title)}**\n{texts.EMPTY_LIST}")
    view = discord.ui.View(timeout=None)
    embeds = []
    for number, (movie, reason) in enumerate(movies[:5], start=1):
        embeds.append(movie_embed(number, movie, reason))
        for button in _movie_buttons(number, movie, user, codec):
            view.add_item(button)
    return Reply(f"**{escape(title)}**", embeds, view)


def movie_embed(number: int, movie: Movie, reason: str) -> discord.Embed:
    """Title and year, genres, a one-line overview and the reason it was chosen."""
    lines = [escape(_one_line(movie.overview, OVERVIEW_CHARS))] if movie.overview else []
    if reason:
        lines.append(f"*{escape(_one_line(reason, REASON_CHARS))}*")
    embed = discord.Embed(
        title=_one_line(f"{number}. {movie.label}", 256),
        description="\n".join(lines) or None,
        colour=COLOUR,
    )
    if movie.genres:
        embed.set_footer(text=", ".join(movie.genres[:4]))
    return embed


def profile_reply(summary: ProfileSummary) -> Reply:
    """``/profile``: picks so far, top genres, last picks."""
    if summary.pick_count == 0:
        return Reply(texts.NO_PICKS_YET)
    embed = discord.Embed(
        title=f"{summary.pick_count} picks, {summary.dislike_count} less-like-this",
        colour=COLOUR,
    )
    if summary.top_genres:
        embed.add_field(name="Top genres", value=escape(", ".join(summary.top_genres)))
    last = ", ".join(movie.label for movie in summary.last_picks)
    embed.add_field(name="Last picks", value=escape(_one_line(last, 1000)), inline=False)
    return Reply(embeds=[embed])


def forget_confirmation(user: UserRef, codec: ButtonCodec) -> Reply:
    """The question ``/forget`` asks before deleting anything."""
    view = discord.ui.View(timeout=None)
    payload = codec.write(user, Button(ButtonAction.FORGET))
    view.add_item(PayloadButton(payload, "Yes, forget me", discord.ButtonStyle.danger))
    return Reply(texts.FORGET_QUESTION, view=view)


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
    number: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[PayloadButton]:
    pick = codec.write(user, Button(ButtonAction.PICK, movie.movie_id))
    dislike = codec.write(user, Button(ButtonAction.DISLIKE, movie.movie_id))
    label = _one_line(f"{number}. {movie.title}", LABEL_CHARS)
    row = number - 1
    return [
        PayloadButton(pick, f"👍 {label}", discord.ButtonStyle.success, row=row),
        PayloadButton(dislike, "👎 less like this", discord.ButtonStyle.secondary, row=row),
    ]


def _one_line(value: str, limit: int) -> str:
    """``value`` on one line, cut at a word boundary to at most ``limit`` characters."""
    flat = " ".join(value.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"
