"""What a movie card and a page of a kept list say, in the user's language: the movie's
rating and runtime, what the list is and where the page is in it, and the buttons that
browse. Plain text, escaped by each door as :mod:`adapters.texts` is."""

from __future__ import annotations

from babel.numbers import format_decimal

from adapters import texts
from adapters.i18n import N_, Words
from core.models import ListKind, Movie, Page

MORE_BUTTON = N_("more ▸")
BACK_BUTTON = N_("◂ back")
LIKE_THIS_BUTTON = N_("🔎 like this")
FIND_LIKE_THIS_BUTTON = N_("🔎 find movies like this")
"""The button of a shared card, which opens the bot on the movies like it."""
LIKE_THAT_MOVIE = N_("Like that movie")
SMALL_VOTE_COUNT = 100
"""Below this many votes a rating says how many it rests on."""
LIST_TITLES = {
    ListKind.SEARCH: texts.SEARCH_RESULTS,
    ListKind.RECOMMENDED: texts.FOR_YOU,
    ListKind.EXPLORED: texts.EXPLORING,
    ListKind.SIMILAR: LIKE_THAT_MOVIE,
}
"""The title of each kind of list (message ids); a list of movies like a known movie
names it (:func:`like`)."""


def like(words: Words, movie: Movie) -> str:
    """The title of the list of movies like ``movie``."""
    return words.gettext("Like {movie}", movie=movie.label)


def list_title(words: Words, page: Page, title: str | None = None) -> str:
    """The title of a page of a list (``title``, a message id, else what the list is),
    and where the page is in it after the first: ``For you, 6-10 of 50``."""
    if title is not None:
        heading = words.gettext(title)
    elif page.kind is ListKind.SIMILAR and page.about is not None:
        heading = like(words, page.about)
    else:
        heading = words.gettext(LIST_TITLES[page.kind])
    if page.offset == 0 or not page.items:
        return heading
    return words.gettext(
        "{title}, {first}-{last} of {total}",
        title=heading,
        first=page.offset + 1,
        last=page.offset + len(page.items),
        total=page.total,
    )


def rating(words: Words, movie: Movie) -> str:
    """``★ 7.5``, with the number of votes when it is small: ``★ 6.1 (42 votes)``; nothing
    when the catalog has no rating or no vote for the movie."""
    if movie.vote_average is None or movie.vote_count == 0:
        return ""
    stars = format_decimal(movie.vote_average, format="0.0", locale=words.language)
    if movie.vote_count is not None and movie.vote_count < SMALL_VOTE_COUNT:
        return words.ngettext(
            "★ {rating} ({count} vote)",
            "★ {rating} ({count} votes)",
            movie.vote_count,
            rating=stars,
        )
    return f"★ {stars}"


def runtime(words: Words, minutes: int | None) -> str:
    """``2h 11m``, ``45m``; nothing when unknown."""
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return words.gettext("{minutes}m", minutes=rest)
    return words.gettext("{hours}h {minutes:02d}m", hours=hours, minutes=rest)


def facts(words: Words, movie: Movie) -> str:
    """What a card says of a movie besides its title: ``★ 7.5 · 2h 11m``."""
    parts = (rating(words, movie), runtime(words, movie.runtime))
    return " · ".join(part for part in parts if part)


def movie_page_button(site: str) -> str:
    """The label of the button that opens a movie's page on ``site`` (a name, the same
    in every language)."""
    return f"{site} ↗"
