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

from adapters import texts
from adapters.buttons import Button, ButtonAction, ButtonCodec
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
    """Every command with its one-line description and, where it takes arguments, an
    example (Telegram commands take them as typed text)."""
    lines = [
        f"/{command.name} — {escape(command.description)}"
        + (f": /{command.name} {escape(command.example)}" if command.example else "")
        for command in texts.COMMANDS
    ]
    title = f"<b>{texts.COMMANDS_TITLE}</b>"
    return "\n".join([title, *lines, "Or just send me what you feel like watching."])


def movie_list(
    title: str, found: Sequence[SearchHit | Recommendation], user: UserRef, codec: ButtonCodec
) -> Reply:
    """A titled list of movie cards, each with why it is there, and its buttons: pick,
    less like this, movies like it and, when known, its page on the web."""
    return _cards(title, found, user, codec)


def page(shown: Page, user: UserRef, codec: ButtonCodec, title: str | None = None) -> Reply:
    """A page of a kept list (titled ``title``, else as :func:`texts.list_title` says),
    numbered from its place in the list, with "◂ back" and "more ▸" where there is more."""
    back, more = codec.page_payloads(user, shown)
    nav = [
        InlineKeyboardButton(label, callback_data=payload)
        for label, payload in ((texts.BACK_BUTTON, back), (texts.MORE_BUTTON, more))
        if payload is not None
    ]
    heading = title or texts.list_title(shown)
    return _cards(heading, shown.items, user, codec, shown.offset + 1, [nav] if nav else [])


def card_text(movie: Movie, number: int | None = None, note: str = "") -> str:
    """A movie's card: title and year, genres, rating and runtime, a short overview and,
    when given, why it is there."""
    heading = clip(movie.label, TITLE_CHARS)
    lines = [f"<b>{escape(heading if number is None else f'{number}. {heading}')}</b>"]
    if movie.genres:
        lines[0] += f" · {escape(clip(', '.join(movie.genres[:3]), GENRE_CHARS))}"
    if facts := texts.facts(movie):
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


def shared_card(movie: Movie, bot_username: str) -> InlineQueryResultArticle:
    """A movie offered in inline mode, to share in any chat: its card (without why it
    was suggested, which is the user's own), a button that opens the bot on movies like
    it, and its page on the web."""
    rows = [
        [
            InlineKeyboardButton(
                texts.FIND_LIKE_THIS_BUTTON, url=like_link(bot_username, movie.movie_id)
            )
        ]
    ]
    if (web := movie_page(movie)) is not None:
        rows[0].append(InlineKeyboardButton(texts.movie_page_button(web.site), url=web.url))
    about = (texts.facts(movie), ", ".join(movie.genres[:3]), movie.overview)
    return InlineQueryResultArticle(
        id=str(movie.movie_id),
        title=clip(movie.label, TITLE_CHARS),
        description=clip(" · ".join(part for part in about if part), DESCRIPTION_CHARS),
        input_message_content=InputTextMessageContent(card_text(movie), parse_mode="HTML"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


def shared_cards(
    found: Sequence[SearchHit | Recommendation], bot_username: str
) -> list[InlineQueryResultArticle]:
    """The inline answer: a shared card per movie, at most ``MAX_INLINE_RESULTS`` (the
    result ids, the movie ids, must differ)."""
    movies = list({item.movie.movie_id: item.movie for item in found}.values())
    return [shared_card(movie, bot_username) for movie in movies[:MAX_INLINE_RESULTS]]


def like_link(bot_username: str, movie_id: int) -> str:
    """The deep link that opens the private chat with the bot and, on Start, lists the
    movies like ``movie_id``."""
    return start_link(bot_username, f"{LIKE_START}{movie_id}")


def liked_movie(start_argument: str) -> int | None:
    """The movie id of a ``like_<id>`` start argument, or ``None``."""
    match = LIKE_ARGUMENT.fullmatch(start_argument)
    return None if match is None else int(match["movie"])


def profile_text(summary: ProfileSummary) -> str:
    """``/profile``: picks so far, top genres, last picks."""
    if summary.pick_count == 0:
        return texts.NO_PICKS_YET
    picks = texts.picks(summary.pick_count)
    lines = [f"<b>{picks}</b>, {texts.less_like_this(summary.dislike_count)}"]
    if summary.top_genres:
        lines.append(f"{texts.TOP_GENRES}: " + escape(", ".join(summary.top_genres)))
    last = ", ".join(movie.label for movie in summary.last_picks)
    lines.append(f"{texts.LAST_PICKS}: {escape(last)}")
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
        texts.FORGET_BUTTON, callback_data=codec.write(user, Button(ButtonAction.FORGET))
    )
    return Reply(texts.FORGET_QUESTION, InlineKeyboardMarkup([[button]]))


def start_link(bot_username: str, command: str) -> str:
    """The deep link that opens the private chat with the bot and, on Start, runs
    ``/start <command>`` there."""
    return f"https://t.me/{bot_username}?start={command}"


def escape(text: str) -> str:
    """Text from the core or a user, safe inside an HTML message."""
    return html.escape(text, quote=False)


def _cards(
    title: str,
    found: Sequence[SearchHit | Recommendation],
    user: UserRef,
    codec: ButtonCodec,
    first: int = 1,
    extra_rows: list[list[InlineKeyboardButton]] | None = None,
) -> Reply:
    if not found:
        return Reply(f"<b>{escape(clip(title, TITLE_CHARS))}</b>\n{texts.EMPTY_LIST}")
    blocks = [f"<b>{escape(clip(title, TITLE_CHARS))}</b>"]
    rows = []
    for number, (movie, note) in enumerate(texts.listed(found), start=first):
        blocks.append(card_text(movie, number, note))
        rows.extend(_movie_buttons(number, movie, user, codec))
    return Reply("\n\n".join(blocks), InlineKeyboardMarkup([*rows, *(extra_rows or [])]))


def _movie_buttons(
    number: int, movie: Movie, user: UserRef, codec: ButtonCodec
) -> list[list[InlineKeyboardButton]]:
    """Two rows: pick and less like this; movies like it and its page on the web."""
    pick, dislike = codec.movie_payloads(user, movie.movie_id)
    similar = codec.write(user, Button(ButtonAction.SIMILAR, movie.movie_id))
    label = texts.pick_button(number, movie.title, LABEL_CHARS)
    more = [InlineKeyboardButton(texts.LIKE_THIS_BUTTON, callback_data=similar)]
    if (web := movie_page(movie)) is not None:
        more.append(InlineKeyboardButton(texts.movie_page_button(web.site), url=web.url))
    return [
        [
            InlineKeyboardButton(label, callback_data=pick),
            InlineKeyboardButton(texts.LESS_LIKE_THIS_BUTTON, callback_data=dislike),
        ],
        more,
    ]


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
