"""Lists a page at a time on the sample index, with the real local model: the same list
page after page, kept per user, and movies like one movie."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.browsing import LIST_LENGTH, PAGE_SIZE, Browser
from core.embedders import OnnxEmbedder
from core.errors import (
    EndOfListError,
    ExpiredListError,
    StoreUnavailableError,
    UnknownMovieError,
)
from core.index import MovieIndex
from core.models import ListKind, Page, Recommendation, ShownEntry, ShownList, UserRef
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.stores.shown_lists import MemoryListStore
from testing.data import random_movies
from testing.doubles import FixedEmbedder

ALICE = UserRef("telegram", "1")
BOB = UserRef("telegram", "2")


@pytest.fixture
def store() -> MemoryProfileStore:
    return MemoryProfileStore()


@pytest.fixture
def recommender(
    sample_index: MovieIndex, local_embedder: OnnxEmbedder, store: MemoryProfileStore
) -> Recommender:
    return Recommender(sample_index, local_embedder, store, rng=np.random.default_rng(0))


@pytest.fixture
def browser(recommender: Recommender, store: MemoryProfileStore) -> Browser:
    return Browser(recommender, store.shown_lists())


def ids(page: Page) -> list[int]:
    return [item.movie.movie_id for item in page.items]


def movie_id(index: MovieIndex, title: str) -> int:
    return next(movie.movie_id for movie in index.movies if movie.title == title)


async def test_more_pages_through_the_same_search_without_repeats(browser: Browser) -> None:
    first = await browser.search(ALICE, "a cop fights terrorists")
    assert first.list_id is not None and first.total == LIST_LENGTH
    pages = [first]
    while (offset := pages[-1].next_offset) is not None:
        pages.append(await browser.page(ALICE, first.list_id, offset))

    shown = [movie for page in pages for movie in ids(page)]
    assert len(pages) == LIST_LENGTH // PAGE_SIZE and len(shown) == len(set(shown)) == LIST_LENGTH
    assert [page.offset for page in pages] == list(range(0, LIST_LENGTH, PAGE_SIZE))
    assert pages[-1].next_offset is None and pages[0].previous_offset is None
    back = await browser.page(ALICE, first.list_id, pages[2].previous_offset or 0)
    assert back == pages[1]


async def test_a_list_stays_the_same_while_the_user_picks(
    browser: Browser, recommender: Recommender, sample_index: MovieIndex
) -> None:
    await recommender.pick(ALICE, movie_id(sample_index, "Alien"))
    first = await browser.recommend(ALICE)
    assert first.list_id is not None and all(isinstance(i, Recommendation) for i in first.items)
    second = await browser.page(ALICE, first.list_id, PAGE_SIZE)

    await recommender.pick(ALICE, first.items[0].movie.movie_id)
    await recommender.pick(ALICE, movie_id(sample_index, "Toy Story"))

    assert await browser.page(ALICE, first.list_id, PAGE_SIZE) == second
    fresh = await browser.recommend(ALICE)
    assert ids(fresh) != ids(first) and first.items[0].movie.movie_id not in ids(fresh)


async def test_an_exploring_list_keeps_its_reasons(
    browser: Browser, recommender: Recommender
) -> None:
    hit = (await recommender.search("space adventure", 1))[0]
    await recommender.pick(ALICE, hit.movie.movie_id)
    first = await browser.explore(ALICE, 0.5)
    assert first.list_id is not None and first.kind is ListKind.EXPLORED

    again = await browser.page(ALICE, first.list_id, 0)

    assert again.items == first.items
    assert all(item.reason.exploration is not None for item in again.items)  # type: ignore[union-attr]


async def test_pages_that_do_not_exist_are_refused(browser: Browser) -> None:
    first = await browser.search(ALICE, "western")
    assert first.list_id is not None
    for offset in (LIST_LENGTH, LIST_LENGTH + 7, -1):
        with pytest.raises(EndOfListError):
            await browser.page(ALICE, first.list_id, offset)
    with pytest.raises(ExpiredListError):
        await browser.page(BOB, first.list_id, PAGE_SIZE)
    with pytest.raises(ExpiredListError):
        await browser.page(ALICE, first.list_id + 1, PAGE_SIZE)


async def test_like_this_leaves_out_the_movie_and_the_users_picks_and_dislikes(
    browser: Browser, recommender: Recommender, sample_index: MovieIndex
) -> None:
    die_hard = movie_id(sample_index, "Die Hard")
    everyone = await browser.similar(BOB, die_hard)
    sequel = movie_id(sample_index, "Die Hard 2")
    assert everyone.about == sample_index.movie(die_hard) and sequel in ids(everyone)
    await recommender.pick(ALICE, sequel)
    await recommender.dislike(ALICE, ids(everyone)[1])

    mine = await browser.similar(ALICE, die_hard)

    assert mine.kind is ListKind.SIMILAR and mine.total == LIST_LENGTH
    assert not {die_hard, sequel, ids(everyone)[1]} & set(ids(mine))
    with pytest.raises(UnknownMovieError):
        await browser.similar(ALICE, 123_456_789)


async def test_like_a_title_takes_the_movie_named_or_the_closest(
    browser: Browser, sample_index: MovieIndex
) -> None:
    by_label = await browser.similar_to(ALICE, "die HARD (1988)")
    by_title = await browser.similar_to(ALICE, "Die Hard")
    by_plot = await browser.similar_to(ALICE, "a great white shark terrorizes a beach town")

    die_hard = sample_index.movie(movie_id(sample_index, "Die Hard"))
    assert by_label.about == by_title.about == die_hard
    assert by_plot.about is not None and by_plot.about.title == "Jaws"


class UnavailableLists(MemoryListStore):
    async def save(self, user: UserRef, list_id: int, shown: ShownList) -> None:
        raise StoreUnavailableError("Redis is down")


async def test_a_list_that_cannot_be_kept_is_shown_without_more(
    recommender: Recommender,
) -> None:
    page = await Browser(recommender, UnavailableLists()).search(ALICE, "western")
    assert len(page.items) == PAGE_SIZE and page.list_id is None and page.next_offset is None


class DownStore(MemoryProfileStore):
    async def load(self, user: UserRef) -> Any:
        raise StoreUnavailableError("Redis is down")


async def test_titles_complete_without_the_model_or_the_store(sample_index: MovieIndex) -> None:
    offline = Recommender(
        sample_index, FixedEmbedder(sample_index.manifest.embedder, 384), DownStore()
    )
    browser = Browser(offline, UnavailableLists())

    assert [movie.title for movie in browser.complete("die h")][:3] == [
        "Die Hard",
        "Die Hard 2",
        "Die Hard with a Vengeance",
    ]
    assert len(browser.complete("t", 25)) == 25


def random_browser() -> tuple[Browser, MemoryListStore, MovieIndex]:
    movies, vectors = random_movies(60)
    index = MovieIndex.from_vectors(movies, vectors, "test:random")
    lists = MemoryListStore()
    recommender = Recommender(index, FixedEmbedder("test:random", 16), MemoryProfileStore())
    return Browser(recommender, lists), lists, index


@given(length=st.integers(0, LIST_LENGTH), offset=st.integers(-(2**7), 2**7), other=st.booleans())
async def test_any_position_is_a_page_of_the_list_or_a_short_refusal(
    length: int, offset: int, other: bool
) -> None:
    browser, lists, index = random_browser()
    entries = tuple(ShownEntry(movie.movie_id, 0.5) for movie in index.movies[:length])
    await lists.save(ALICE, 7, ShownList(ListKind.SEARCH, entries))

    if other:
        with pytest.raises(ExpiredListError):
            await browser.page(BOB, 7, offset)
    elif 0 <= offset < length:
        page = await browser.page(ALICE, 7, offset)
        assert [entry.movie_id for entry in entries[offset : offset + PAGE_SIZE]] == ids(page)
        assert page.next_offset == (offset + PAGE_SIZE if offset + PAGE_SIZE < length else None)
    else:
        with pytest.raises(EndOfListError):
            await browser.page(ALICE, 7, offset)
