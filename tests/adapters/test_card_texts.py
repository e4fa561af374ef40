"""What a movie card and a page of a list say, in English and in Russian."""

from __future__ import annotations

import pytest

from adapters import card_texts, i18n
from core.models import ListKind, Movie, Page, SearchHit

DIE_HARD = Movie(1, "Die Hard", 1988)
EN, RU = i18n.words("en"), i18n.words("ru")


@pytest.mark.parametrize(
    ("movie", "english", "russian"),
    [
        (
            Movie(1, "Die Hard", vote_average=7.54, vote_count=3948, runtime=131),
            "★ 7.5 · 2h 11m",
            "★ 7,5 · 2 ч 11 мин",
        ),
        (
            Movie(2, "Obscure", vote_average=6.1, vote_count=42),
            "★ 6.1 (42 votes)",
            "★ 6,1 (42 голоса)",
        ),
        (
            Movie(3, "Rare", vote_average=9.0, vote_count=1, runtime=45),
            "★ 9.0 (1 vote) · 45m",
            "★ 9,0 (1 голос) · 45 мин",
        ),
        (
            Movie(4, "Few", vote_average=5.0, vote_count=11, runtime=128),
            "★ 5.0 (11 votes) · 2h 08m",
            "★ 5,0 (11 голосов) · 2 ч 08 мин",
        ),
        (Movie(5, "Unrated", vote_average=0.0, vote_count=0, runtime=60), "1h 00m", "1 ч 00 мин"),
        (Movie(6, "Averaged", vote_average=8.0), "★ 8.0", "★ 8,0"),
        (Movie(7, "Bare"), "", ""),
    ],
)
def test_a_card_says_the_rating_with_few_votes_counted_and_the_runtime(
    movie: Movie, english: str, russian: str
) -> None:
    assert card_texts.facts(EN, movie) == english
    assert card_texts.facts(RU, movie) == russian


@pytest.mark.parametrize(
    ("count", "form"), [(1, "голос"), (3, "голоса"), (21, "голос"), (57, "голосов")]
)
def test_a_russian_vote_count_takes_its_plural_form(count: int, form: str) -> None:
    movie = Movie(1, "Die Hard", vote_average=7.0, vote_count=count)
    assert card_texts.rating(RU, movie) == f"★ 7,0 ({count} {form})"


def test_a_page_title_says_the_list_and_where_the_page_is_after_the_first() -> None:
    hits = tuple(SearchHit(Movie(n, f"Movie {n}"), 0.5) for n in range(5))
    first = Page(ListKind.SEARCH, hits, 0, 5, 50, list_id=7)
    second = Page(ListKind.RECOMMENDED, hits, 5, 5, 50, list_id=7)
    third = Page(ListKind.SIMILAR, hits[:3], 10, 5, 13, list_id=7, about=DIE_HARD)
    assert card_texts.list_title(EN, first) == "Search results"
    assert card_texts.list_title(EN, second) == "For you, 6-10 of 50"
    assert card_texts.list_title(RU, second) == "Подборка для вас, 6-10 из 50"
    assert card_texts.list_title(EN, third) == "Like Die Hard (1988), 11-13 of 13"
    assert card_texts.list_title(RU, third) == "Похожие на Die Hard (1988), 11-13 из 13"
    assert card_texts.list_title(EN, first, card_texts.texts.TO_START_WITH) == "To start with"
    assert [card_texts.list_title(EN, Page(kind, hits, 0, 5, 5)) for kind in ListKind] == [
        "Search results",
        "For you",
        "Exploring: a step outside your taste",
        "Like that movie",
    ]
