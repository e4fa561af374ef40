"""What the bot says on Telegram: HTML texts and inline keyboards, built without I/O."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.i18n import N_, Words
from adapters.texts import shorten
from core.models import Movie, ProfileSummary, Recommendation, SearchHit, UserRef

# Five movies of at most ~600 characters each stay under Telegram's 4,096.
TITLE_CHARS = 200
OVERVIEW_CHARS = 140
LABEL_CHARS = 28

WELCOME = N_(
    "<b>Hi! I recommend movies.</b>\n"
    "Search for movies you like and press 👍 on them: your taste becomes a vector, "
    "and /recommend finds the movies nearest to it. Here are some to start with:"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: HTML text and, maybe, an inline keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def help_text(words: Words) -> str:
    """Every command with its one-line description and, where it takes arguments, an
    example (Telegram commands take them as typed text)."""
    lines = [
        f"/{command.name} — {escape(texts.described(words, command.name))}"
        + (f": /{command.name} {escape(texts.example(words, command))}" if command.example else "")
        for command in texts.COMMANDS
    ]
    title = f"<b>{escape(words.gettext(texts.COMMANDS_TITLE))}</b>"
    footer = escape(words.gettext("Or just send me what you feel like watching."))
    return "\n".join([title, *lines, footer])


def welcome(words: Words) -> str:
    """The first lines of ``/start``."""
    return words.gettext(WELCOME)


def plain(text: str) -> Reply:
    """A message of plain text, escaped."""
    return Reply(escape(text))


def movie_list(
    words: Words,
    title: str,
    found: Sequence[SearchHit | Recommendation],
    user: UserRef,
    codec: ButtonCodec,
) -> Reply:
    """A titled list of movies (``title`` a message id), each with why it is there, a
    pick and a less-like-this button."""
    heading = f"<b>{escape(words.gettext(title))}</b>"
    if not found:
        return Reply(f"{heading}\n{escape(words.gettext(texts.EMPTY_LIST))}")
    blocks = [heading]
    rows = []
    for number, (movie, note) in enumerate(texts.listed(words, found), start=1):
        blocks.append(_movie_block(number, movie, note))
        rows.append(_movie_buttons(words, number, movie, user, codec))
    return Reply("\n\n".join(blocks), InlineKeyboardMarkup(rows))


def profile_text(words: Words, summary: ProfileSummary) -> str:
    """``/profile``: picks so far, top genres, last picks."""
    if summary.pick_count == 0:
        return escape(words.gettext(texts.NO_PICKS_YET))
    picks = escape(texts.picks(words, summary.pick_count))
    lines = [f"<b>{picks}</b>, {escape(texts.less_like_this(words, summary.dislike_count))}"]
    if summary.top_genres:
        genres = ", ".join(summary.top_genres)
        lines.append(escape(f"{words.gettext(texts.TOP_GENRES)}: {genres}"))
    last = ", ".join(movie.label for movie in summary.last_picks)
    lines.append(escape(f"{words.gettext(texts.LAST_PICKS)}: {last}"))
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


def forget_confirmation(words: Words, user: UserRef, codec: ButtonCodec) -> Reply:
    """The question ``/forget`` asks before deleting anything."""
    button = InlineKeyboardButton(
        words.gettext(texts.FORGET_BUTTON),
        callback_data=codec.write(user, Button(ButtonAction.FORGET)),
    )
    return Reply(escape(words.gettext(texts.FORGET_QUESTION)), InlineKeyboardMarkup([[button]]))


def start_link(bot_username: str, command: str) -> str:
    """The deep link that opens the private chat with the bot and, on Start, runs
    ``/start <command>`` there."""
    return f"https://t.me/{bot_username}?start={command}"


def escape(text: str) -> str:
    """Text from the core or a user, safe inside an HTML message."""
    return html.escape(text, quote=False)


def _movie_block(number: int, movie: Movie, note: str) -> str:
    lines = [f"<b>{number}. {escape(shorten(movie.label, TITLE_CHARS))}</b>"]
    if movie.genres:
        lines[0] += f" · {escape(', '.join(movie.genres[:3]))}"
    if movie.overview:
        lines.append(escape(shorten(movie.overview, OVERVIEW_CHARS)))
    if note:
        lines.append(f"<i>{escape(shorten(note, TITLE_CHARS))}</i>")
    return "\n".join(lines)


def _movie_buttons(
    words: Words, number: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[InlineKeyboardButton]:
    pick, dislike = codec.movie_payloads(user, movie.movie_id)
    label = texts.pick_button(number, movie.title, LABEL_CHARS)
    return [
        InlineKeyboardButton(label, callback_data=pick),
        InlineKeyboardButton(words.gettext(texts.LESS_LIKE_THIS_BUTTON), callback_data=dislike),
    ]
