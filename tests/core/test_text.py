"""The embedding template and the cleaning of search text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidQueryError
from core.models import Movie
from core.text import MAX_QUERY_CHARS, clean_query, document_text, names_title


def test_document_text_is_a_deliberate_template() -> None:
    movie = Movie(
        1,
        "Die Hard",
        1988,
        ("Action", "Thriller"),
        "A New York cop fights thieves in a tower.",
        ("Bruce Willis", "Alan Rickman", "A", "B", "C", "D"),
        producer="Joel Silver",
    )
    assert document_text(movie) == (
        "Die Hard (1988). Genres: Action, Thriller. A New York cop fights thieves in a tower. "
        "Starring Bruce Willis, Alan Rickman, A, B, C."
    )


def test_document_text_with_title_only() -> None:
    assert document_text(Movie(7, "Metropolis")) == "Metropolis."


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x07", "\u200f\u202e"])
def test_nothing_to_search_is_refused(text: str) -> None:
    with pytest.raises(InvalidQueryError):
        clean_query(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  die   hard\n", "die hard"),
        ("space\x00 \x1b[31madventure", "space [31madventure"),
        ("🤖 robots 👩‍🚀", "🤖 robots 👩‍🚀"),
        ("فيلم رعب", "فيلم رعب"),
        ("Ame\u0301lie", "Amélie"),
    ],
)
def test_queries_are_cleaned_not_mangled(text: str, expected: str) -> None:
    assert clean_query(text) == expected


def test_long_query_is_cut() -> None:
    assert len(clean_query("heist " * 2000)) <= MAX_QUERY_CHARS


@given(st.text())
def test_any_text_gives_a_clean_query_or_a_clear_refusal(text: str) -> None:
    try:
        query = clean_query(text)
    except InvalidQueryError:
        return
    assert query and query == query.strip() and len(query) <= MAX_QUERY_CHARS
    assert "\x00" not in query and "\n" not in query


@pytest.mark.parametrize(
    ("query", "title", "named"),
    [
        ("die hard", "Live Free or Die Hard", True),
        ("DIE  Hard", "Die Hard: With a Vengeance", True),
        ("die hard", "Live and Let Die", False),
        ("hard die", "Die Hard", False),
        ("die har", "Die Hard", False),
        ("amelie", "Amélie", True),
        ("...", "Die Hard", False),
    ],
)
def test_names_title(query: str, title: str, named: bool) -> None:
    assert names_title(query, title) is named
