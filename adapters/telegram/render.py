"""What the bot says on Telegram: HTML texts and inline keyboards, built without I/O."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from core.models import (
    Movie,
    ProfileSummary,
    Recommendation,
    SearchHit,
    UserRef,
)

# Five movies of at most ~600 characters each stay under Telegram's 4,096.
TITLE_CHARS = 200
OVERVIEW_CHARS = 140
LABEL_CHARS = 28

COMMANDS = (
    ("start", "what this bot does, and movies to start with"),
    ("search", "find movies: /search space adventure"),
    ("recommend", "movies for your taste"),
    ("explore", "a step outside your taste: /explore [0-1]"),
    ("profile", "what I know about your taste"),
    ("undo", "take back your last pick"),
    ("forget", "delete everything I know about you"),
    ("subscribe", "weekly picks: /subscribe [day] [hour] [time zone]"),
    ("unsubscribe", "stop the weekly picks"),
    ("help", "this list"),
)
WELCOME = (
    "<b>Hi! I recommend movies.</b>\n"
    "Search for movies you like and press 👍 on them: your taste becomes a vector, "
    "and /recommend finds the movies nearest to it. Here are some to start with:"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: HTML text and, maybe, an inline keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def help_text() -> str:
    """Every command with its one-line description."""
    lines = [f"/{name} — {html.escape(description)}" for name, description in COMMANDS]
    return "\n".join(["<b>Commands</b>", *lines, "Or just send me what you feel like watching."])


def search_reply(hits: Sequence[SearchHit], title: str, user: UserRef, codec: ButtonCodec) -> Reply:
    """Search results with a pick and a less-like-this button per movie."""
    return _movie_list(title, [(hit.movie, "") for hit in hits], user, codec)


def recommendations_reply(
    recommendations: Sequence[Recommendation], title: str, user: UserRef, codec: ButtonCodec
) -> Reply:
    """Recommendations, each with its reason and buttons."""
    return _movie_list(title, [(r.movie, r.reason) for r in recommendations], user, codec)


def profile_text(summary: ProfileSummary) -> str:
    """``/profile``: picks so far, top genres, last picks."""
    if summary.pick_count == 0:
        return texts.NO_PICKS_YET
    lines = [f"<b>{summary.pick_count} picks</b>, {summary.dislike_count} less-like-this"]
    if summary.top_genres:
        lines.append("Top genres: " + html.escape(", ".join(summary.top_genres)))
    lines.append("Last picks: " + html.escape(", ".join(m.label for m in summary.last_picks)))
    return "\n".join(lines)


def marked_keyboard(
    keyboard: InlineKeyboardMarkup | None, pressed: str, mark: str
) -> InlineKeyboardMarkup | None:
    """The keyboard with the pressed button's label prefixed by ``mark``; ``None`` when
    there is nothing to change (Telegram refuses an edit that changes nothing)."""
    if keyboard is None:
        return None
    labels = [[button.text for button in row] for row in keyboard.inline_keyboard]
    rows = [
        [
            InlineKeyboardButton(f"{mark} {b.text}", callback_data=b.callback_data)
            if b.callback_data == pressed and not b.text.startswith(mark)
            else b
            for b in row
        ]
        for row in keyboard.inline_keyboard
    ]
    changed = [[button.text for button in row] for row in rows] != labels
    return InlineKeyboardMarkup(rows) if changed else None


def forget_confirmation(user: UserRef, codec: ButtonCodec) -> Reply:
    """The question ``/forget`` asks before deleting anything."""
    button = InlineKeyboardButton(
        "Yes, forget me", callback_data=codec.write(user, Button(ButtonAction.FORGET))
    )
    return Reply(
        texts.FORGET_QUESTION,
        InlineKeyboardMarkup([[button]]),
    )


def escape(text: str) -> str:
    """Text from the core or a user, safe inside an HTML message."""
    return html.escape(text, quote=False)


def _movie_list(
    title: str, movies: Sequence[tuple[Movie, str]], user: UserRef, codec: ButtonCodec
) -> Reply:
    if not movies:
        return Reply(f"<b>{escape(title)}</b>\n{texts.EMPTY_LIST}")
    blocks = [f"<b>{escape(title)}</b>"]
    rows = []
    for number, (movie, reason) in enumerate(movies, start=1):
        blocks.append(_movie_block(number, movie, reason))
        rows.append(_movie_buttons(number, movie, user, codec))
    return Reply("\n\n".join(blocks), InlineKeyboardMarkup(rows))


def _movie_block(number: int, movie: Movie, reason: str) -> str:
    lines = [f"<b>{number}. {escape(_shortened(movie.label, TITLE_CHARS))}</b>"]
    if movie.genres:
        lines[0] += f" · {escape(', '.join(movie.genres[:3]))}"
    if movie.overview:
        lines.append(escape(_shortened(movie.overview, OVERVIEW_CHARS)))
    if reason:
        lines.append(f"<i>{escape(_shortened(reason, TITLE_CHARS))}</i>")
    return "\n".join(lines)


def _movie_buttons(
    number: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[InlineKeyboardButton]:
    pick = codec.write(user, Button(ButtonAction.PICK, movie.movie_id))
    dislike = codec.write(user, Button(ButtonAction.DISLIKE, movie.movie_id))
    label = _shortened(movie.title, LABEL_CHARS)
    return [
        InlineKeyboardButton(f"👍 {number}. {label}", callback_data=pick),
        InlineKeyboardButton("👎 less like this", callback_data=dislike),
    ]


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"
