"""What the terminal chat shows: rich renderables built without I/O, in the user's
language, so tests can read them as strings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import zip_longest

from rich.table import Table
from rich.text import Text

from adapters import texts
from adapters.i18n import N_, Words
from core.models import PickResult, ProfileSummary, Recommendation, SearchHit

RECOMMENDATIONS = N_("Recommendations")


def render_welcome(words: Words, movie_count: int, source: str) -> Text:
    """The first lines of the demo."""
    return Text.assemble(
        ("moviebot demo", "bold"),
        ": ",
        words.ngettext(
            "{count} movie from {source}.",
            "{count} movies from {source}.",
            movie_count,
            source=source,
        ),
        "\n",
        words.gettext(
            "Type what you feel like watching, pick a movie by its number; /help lists commands."
        ),
    )


def render_grid(
    words: Words,
    hits: Sequence[SearchHit],
    recommended: Sequence[Recommendation],
    explored: Mapping[str, Sequence[Recommendation]],
) -> Table:
    """The prototype's grid: numbered search results beside the taste columns."""
    columns = {
        words.gettext(texts.SEARCH_RESULTS): [
            f"{n}. {hit.movie.label}" for n, hit in enumerate(hits, 1)
        ],
        words.gettext(RECOMMENDATIONS): [rec.movie.label for rec in recommended],
        **{
            words.gettext("Exploring ({strategy})", strategy=name): [
                rec.movie.label for rec in found
            ]
            for name, found in explored.items()
        },
    }
    table = Table(*columns)
    for row in zip_longest(*columns.values(), fillvalue=""):
        table.add_row(*(Text(cell) for cell in row))
    return table


def render_recommendations(words: Words, title: str, found: Sequence[Recommendation]) -> Text:
    """A numbered list of movies, each with the reason it was chosen."""
    text = Text(title, style="bold")
    for n, rec in enumerate(found, 1):
        text.append(f"\n{n:>2}. {rec.movie.label}")
        text.append(f" - {texts.reason(words, rec.reason)}", style="dim")
    if not found:
        text.append("\n" + words.gettext("Nothing left to suggest: the catalog is exhausted."))
    return text


def render_profile(words: Words, summary: ProfileSummary) -> Text:
    """Number of picks and dislikes, top genres and the last picks."""
    disliked = words.ngettext("{count} disliked", "{count} disliked", summary.dislike_count)
    text = Text(f"{texts.picks(words, summary.pick_count)}, {disliked}")
    if summary.pick_count == 0:
        text.append("\n" + words.gettext("Search for a movie you like and pick it by its number."))
    if summary.top_genres:
        text.append(f"\n{words.gettext(texts.TOP_GENRES)}: {', '.join(summary.top_genres)}")
    if summary.last_picks:
        last = ", ".join(movie.label for movie in summary.last_picks)
        text.append(f"\n{words.gettext(texts.LAST_PICKS)}: {last}")
    return text


def render_result(words: Words, result: PickResult) -> Text:
    """The one-line outcome of a pick, dislike or undo."""
    return Text(texts.pick_result(words, result))


def render_problem(message: str) -> Text:
    """Why a line could not be done; nothing was changed."""
    return Text(message, style="yellow")


def render_help(words: Words, strategy_names: Sequence[str]) -> Text:
    """What can be typed."""
    strategies = " | ".join(strategy_names)
    explore = words.gettext(
        "{what}, strategy {strategies}",
        what=texts.described(words, "explore"),
        strategies=strategies,
    )
    commands = [
        (words.gettext("any text"), words.gettext("search; then pick a result by its number")),
        ("N", words.gettext("pick movie N of the last list")),
        ("/recommend", texts.described(words, "recommend")),
        (words.gettext("/explore [strength] [strategy]"), explore),
        ("/dislike N", words.gettext("less like movie N of the last list")),
        ("/profile", texts.described(words, "profile")),
        ("/undo", texts.described(words, "undo")),
        ("/forget", texts.described(words, "forget")),
        ("/language [en|ru]", texts.described(words, "language")),
        ("exit", words.gettext("leave (Ctrl-D works too)")),
    ]
    width = max(len(command) for command, _ in commands)
    text = Text(words.gettext(texts.COMMANDS_TITLE), style="bold")
    for command, meaning in commands:
        text.append(f"\n  {command:<{width}}  {meaning}")
    return text
