"""What the bot says on Telegram: HTML texts and inline keyboards, built without I/O."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from adapters import card_texts, texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.i18n import N_, Words
from adapters.links import movie_page
from adapters.texts import shorten
from core.models import Movie, Page, ProfileSummary, Recommendation, SearchHit, UserRef

# Five cards of at most ~700 characters each stay under Telegram's 4,096.
TITLE_CHARS = 200
GENRE_CHARS = 60
OVERVIEW_CHARS = 140
LABEL_CHARS = 28
DESCRIPTION_CHARS = 200
MAX_INLINE_RESULTS = 50  # Telegram's limit per answer to an inline query
LIKE_START = "like_"
LIKE_ARGUMENT = re.compile(rf"{LIKE_START}(?P<movie>[0-9]{{1,19}})", re.ASCII)

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
    """A titled list of movie cards (``title`` a message id), each with why it is there,
    and its buttons: pick, less like this, movies like it and, when known, its page on
    the web."""
    return _cards(words, words.gettext(title), found, user, codec)


def page(
    words: Words, shown: Page, user: UserRef, codec: ButtonCodec, title: str | None = None
) -> Reply:
    """A page of a kept list (titled ``title``, a message id, else by what the list is),
    numbered from its place in the list, with "◂ back" and "more ▸" where there is more."""
    back, more = codec.page_payloads(user, shown)
    labels = (card_texts.BACK_BUTTON, back), (card_texts.MORE_BUTTON, more)
    nav = [
        InlineKeyboardButton(words.gettext(label), callback_data=payload)
        for label, payload in labels
        if payload is not None
    ]
    heading = card_texts.list_title(words, shown, title)
    rows = [nav] if nav else []
    return _cards(words, heading, shown.items, user, codec, shown.offset + 1, rows)


def card_text(words: Words, movie: Movie, number: int | None = None, note: str = "") -> str:
    """A movie's card: title and year, genres, rating and runtime, a short overview and,
    when given, why it is there."""
    heading = clip(movie.label, TITLE_CHARS)
    lines = [f"<b>{escape(heading if number is None else f'{number}. {heading}')}</b>"]
    if movie.genres:
        lines[0] += f" · {escape(clip(', '.join(movie.genres[:3]), GENRE_CHARS))}"
    if facts := card_texts.facts(words, movie):
        lines.append(escape(facts))
    if movie.overview:
        lines.append(escape(clip(movie.overview, OVERVIEW_CHARS)))
    if note:
        lines.append(f"<i>{escape(clip(note, TITLE_CHARS))}</i>")
    return "\n".join(lines)


def clip(text: str, units: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``units`` UTF-16 code units,
    as Telegram counts a message's length (an emoji may count two)."""
    limit = units
    while _utf16_units(clipped := shorten(text, limit)) > units:
        limit -= _utf16_units(clipped) - units
    return clipped


def shared_card(words: Words, movie: Movie, bot_username: str) -> InlineQueryResultArticle:
    """A movie offered in inline mode, to share in any chat: its card (without why it
    was suggested, which is the user's own), a button that opens the bot on movies like
    it, and its page on the web."""
    find = words.gettext(card_texts.FIND_LIKE_THIS_BUTTON)
    row = [InlineKeyboardButton(find, url=like_link(bot_username, movie.movie_id))]
    if (web := movie_page(movie)) is not None:
        row.append(InlineKeyboardButton(card_texts.movie_page_button(web.site), url=web.url))
    about = (card_texts.facts(words, movie), ", ".join(movie.genres[:3]), movie.overview)
    return InlineQueryResultArticle(
        id=str(movie.movie_id),
        title=clip(movie.label, TITLE_CHARS),
        description=clip(" · ".join(part for part in about if part), DESCRIPTION_CHARS),
        input_message_content=InputTextMessageContent(card_text(words, movie), parse_mode="HTML"),
        reply_markup=InlineKeyboardMarkup([row]),
    )


def shared_cards(
    words: Words, found: Sequence[SearchHit | Recommendation], bot_username: str
) -> list[InlineQueryResultArticle]:
    """The inline answer: a shared card per movie, at most ``MAX_INLINE_RESULTS`` (the
    result ids, the movie ids, must differ)."""
    movies = list({item.movie.movie_id: item.movie for item in found}.values())
    return [shared_card(words, movie, bot_username) for movie in movies[:MAX_INLINE_RESULTS]]


def like_link(bot_username: str, movie_id: int) -> str:
    """The deep link that opens the private chat with the bot and, on Start, lists the
    movies like ``movie_id``."""
    return start_link(bot_username, f"{LIKE_START}{movie_id}")


def liked_movie(start_argument: str) -> int | None:
    """The movie id of a ``like_<id>`` start argument, or ``None``."""
    match = LIKE_ARGUMENT.fullmatch(start_argument)
    return None if match is None else int(match["movie"])


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


def _cards(
    words: Words,
    title: str,
    found: Sequence[SearchHit | Recommendation],
    user: UserRef,
    codec: ButtonCodec,
    first: int = 1,
    extra_rows: list[list[InlineKeyboardButton]] | None = None,
) -> Reply:
    """``title`` (already in the user's language) over a card and two rows of buttons
    per movie."""
    heading = f"<b>{escape(clip(title, TITLE_CHARS))}</b>"
    if not found:
        return Reply(f"{heading}\n{escape(words.gettext(texts.EMPTY_LIST))}")
    blocks = [heading]
    rows = []
    for number, (movie, note) in enumerate(texts.listed(words, found), start=first):
        blocks.append(card_text(words, movie, number, note))
        rows.extend(_movie_buttons(words, number, movie, user, codec))
    return Reply("\n\n".join(blocks), InlineKeyboardMarkup([*rows, *(extra_rows or [])]))


def _movie_buttons(
    words: Words, number: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[list[InlineKeyboardButton]]:
    """Two rows: pick and less like this; movies like it and its page on the web."""
    pick, dislike = codec.movie_payloads(user, movie.movie_id)
    similar = codec.write(user, Button(ButtonAction.SIMILAR, movie.movie_id))
    label = texts.pick_button(number, movie.title, LABEL_CHARS)
    like_this = words.gettext(card_texts.LIKE_THIS_BUTTON)
    more = [InlineKeyboardButton(like_this, callback_data=similar)]
    if (web := movie_page(movie)) is not None:
        more.append(InlineKeyboardButton(card_texts.movie_page_button(web.site), url=web.url))
    less = words.gettext(texts.LESS_LIKE_THIS_BUTTON)
    return [
        [
            InlineKeyboardButton(label, callback_data=pick),
            InlineKeyboardButton(less, callback_data=dislike),
        ],
        more,
    ]


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
