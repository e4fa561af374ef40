"""Lists shown a page at a time.

Every list a user is shown (search results, recommendations, exploration, movies like
one movie) is ranked ``LIST_LENGTH`` deep at once and kept in a :class:`ListStore`
under a new id, so that "more" shows the next page of that same list: no repeats, even
when the user picks in between (which changes what a new ``/recommend`` ranks).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence

from core.errors import EndOfListError, ExpiredListError, InvalidQueryError, StoreUnavailableError
from core.models import (
    LIST_ID_BITS,
    ListKind,
    Movie,
    Page,
    Reason,
    Recommendation,
    SearchHit,
    ShownEntry,
    ShownList,
    UserRef,
)
from core.ports import ListStore
from core.recommender import Recommender
from core.titles import TitleIndex

log = logging.getLogger(__name__)

PAGE_SIZE = 5
LIST_LENGTH = 50


class Browser:
    """Ranked lists a page at a time, and movies found by title, for every user."""

    def __init__(
        self,
        recommender: Recommender,
        lists: ListStore,
        *,
        page_size: int = PAGE_SIZE,
        length: int = LIST_LENGTH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._recommender = recommender
        self._lists = lists
        self._size, self._length, self._clock = page_size, length, clock
        self._titles: TitleIndex | None = None
        self._last_id = 0

    async def search(self, user: UserRef, text: str) -> Page:
        """The first page of the movies closest to a free-text description.

        Raises:
            InvalidQueryError: nothing searchable is left of ``text``.
        """
        hits = await self._recommender.search(text, self._length)
        return await self._first_page(user, _shown(ListKind.SEARCH, hits))

    async def recommend(self, user: UserRef) -> Page:
        """The first page of the user's recommendations (the starters without a pick)."""
        found = await self._recommender.recommend(user, self._length)
        return await self._first_page(user, _shown(ListKind.RECOMMENDED, found))

    async def explore(self, user: UserRef, strength: float | None = None) -> Page:
        """The first page of recommendations a step outside the user's taste.

        Raises:
            StrengthOutOfRangeError: the strength is outside [0, 1].
        """
        found = await self._recommender.explore(user, self._length, strength=strength)
        return await self._first_page(user, _shown(ListKind.EXPLORED, found))

    async def similar(self, user: UserRef, movie_id: int) -> Page:
        """The first page of the movies nearest one movie, without the user's picks.

        Raises:
            UnknownMovieError: no movie has this id.
        """
        hits = await self._recommender.similar(user, movie_id, self._length)
        return await self._first_page(user, _shown(ListKind.SIMILAR, hits, about=movie_id))

    async def similar_to(self, user: UserRef, text: str) -> Page:
        """:meth:`similar` for the movie that ``text`` names, else for the closest one.

        Raises:
            InvalidQueryError: nothing searchable is left of ``text``.
        """
        movie = self.titles.named(text)
        if movie is None:
            hits = await self._recommender.search(text, 1)
            if not hits:
                raise InvalidQueryError()
            movie = hits[0].movie
        return await self.similar(user, movie.movie_id)

    async def page(self, user: UserRef, list_id: int, offset: int) -> Page:
        """The page from ``offset`` of the user's list ``list_id``.

        Raises:
            ExpiredListError: the list is no longer kept.
            EndOfListError: the list has no movie at ``offset``.
        """
        shown = await self._lists.load(user, list_id)
        if shown is None:
            raise ExpiredListError()
        if not 0 <= offset < len(shown.entries):
            raise EndOfListError(offset, len(shown.entries))
        return self._page(shown, offset, list_id)

    def complete(self, typed: str, limit: int = 25) -> list[Movie]:
        """Movies whose title starts with what the user typed so far (see
        :meth:`TitleIndex.complete`); needs neither the model nor the store."""
        return self.titles.complete(typed, limit)

    @property
    def titles(self) -> TitleIndex:
        """The catalog's titles, indexed on first use."""
        if self._titles is None:
            self._titles = TitleIndex(self._recommender.index.movies)
        return self._titles

    async def _first_page(self, user: UserRef, shown: ShownList) -> Page:
        """The first page of ``shown``, kept for paging; when it cannot be kept, the
        page alone (the user still gets an answer)."""
        list_id = self._new_list_id()
        try:
            await self._lists.save(user, list_id, shown)
        except StoreUnavailableError as error:
            log.warning("a list of %s is shown without paging: %s", user.key, error)
            return self._page(shown, 0, None)
        return self._page(shown, 0, list_id)

    def _new_list_id(self) -> int:
        """An id that grows with time: the hundredth of a second (41 bits, until the 27th
        century), then random bits against another process's list made at the same time;
        and above the last id of this process."""
        random_bits = LIST_ID_BITS - 41
        made = int(self._clock() * 100) << random_bits | secrets.randbits(random_bits)
        self._last_id = max(made, self._last_id + 1)
        return self._last_id

    def _page(self, shown: ShownList, offset: int, list_id: int | None) -> Page:
        index = self._recommender.index
        entries = shown.entries[offset : offset + self._size]
        items = tuple(item for entry in entries if (item := self._item(shown, entry)))
        about = None if shown.about is None else index.movie(shown.about)
        return Page(shown.kind, items, offset, self._size, len(shown.entries), list_id, about)

    def _item(self, shown: ShownList, entry: ShownEntry) -> SearchHit | Recommendation | None:
        """A kept entry as it was shown; ``None`` for a movie no longer in the index."""
        index = self._recommender.index
        movie = index.movie(entry.movie_id)
        if movie is None:
            return None
        if entry.reason is None:
            return SearchHit(movie, entry.score)
        pick = None if entry.pick_id is None else index.movie(entry.pick_id)
        return Recommendation(movie, entry.score, Reason(entry.reason, pick, shown.exploration))


def _shown(
    kind: ListKind, found: Sequence[SearchHit | Recommendation], about: int | None = None
) -> ShownList:
    """A ranked list as it is kept: ids, scores and reasons."""
    entries = tuple(_entry(item) for item in found)
    reasons = [item.reason for item in found if isinstance(item, Recommendation)]
    exploration = reasons[0].exploration if reasons else None
    return ShownList(kind, entries, about, exploration)


def _entry(item: SearchHit | Recommendation) -> ShownEntry:
    if isinstance(item, SearchHit):
        return ShownEntry(item.movie.movie_id, item.score)
    pick = item.reason.pick
    pick_id = None if pick is None else pick.movie_id
    return ShownEntry(item.movie.movie_id, item.score, item.reason.kind, pick_id)
