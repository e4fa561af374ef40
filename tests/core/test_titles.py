"""Titles as people type them: completions, most voted first, and exact names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.models import Movie
from core.titles import TitleIndex, folded

MOVIES = [
    Movie(1, "Die Hard 2", 1990, popularity=2000),
    Movie(2, "Die Hard", 1988, popularity=4000),
    Movie(3, "A Good Day to Die Hard", 2013, popularity=3000),
    Movie(4, "Dié Hárd: the Musical", 2020),
    Movie(5, "Heidi", 1937, popularity=10),
    Movie(6, "Heidi", 2005, popularity=50),
    Movie(7, "Hard Target", 1993, popularity=500),
]
TITLES = TitleIndex(MOVIES)


def titles(movies: list[Movie]) -> list[str]:
    return [movie.label for movie in movies]


def test_titles_that_start_with_the_text_come_first_most_voted_first() -> None:
    assert titles(TITLES.complete("die h")) == [
        "Die Hard (1988)",
        "Die Hard 2 (1990)",
        "Dié Hárd: the Musical (2020)",
        "A Good Day to Die Hard (2013)",
    ]
    assert titles(TITLES.complete("HARD")) == [
        "Hard Target (1993)",
        "Die Hard (1988)",
        "A Good Day to Die Hard (2013)",
        "Die Hard 2 (1990)",
        "Dié Hárd: the Musical (2020)",
    ]
    assert titles(TITLES.complete("die h", limit=2)) == ["Die Hard (1988)", "Die Hard 2 (1990)"]
    assert TITLES.complete("") == TITLES.complete("  !? ") == TITLES.complete("zzz") == []


def test_a_name_is_a_title_with_its_year_or_the_most_voted_of_a_title() -> None:
    assert TITLES.named("heidi (1937)") == MOVIES[4]
    assert TITLES.named("Heidi") == MOVIES[5]
    assert TITLES.named("die hard: the musical") == MOVIES[3]
    assert TITLES.named("die") is None and TITLES.named("") is None


@given(st.text(max_size=30), st.integers(-3, 40))
def test_completions_match_what_was_typed_and_stay_within_the_limit(typed: str, limit: int) -> None:
    found = TITLES.complete(typed, limit)
    assert len(found) <= max(limit, 0) and len({m.movie_id for m in found}) == len(found)
    wanted = folded(typed)
    assert all(f" {wanted}" in f" {folded(movie.title)}" for movie in found)
