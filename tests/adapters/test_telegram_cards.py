"""Browsing on Telegram as people do it: pages of one list, "like this", inline mode
and a shared card's link, through the real python-telegram-bot and the local stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from adapters.buttons import Button, ButtonAction, ButtonCodec
from adapters.i18n import LANGUAGES
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from adapters.telegram.bot import build_application, serving
from adapters.telegram.handlers import INLINE_CACHE_SECONDS, INLINE_RESULTS, TelegramHandlers
from core.browsing import LIST_LENGTH
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.models import UserRef
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.stores.shown_lists import KEPT_LISTS
from core.subscriptions import Subscriptions
from testing.telegram_api import BOT_USERNAME, FakeTelegram
from testing.waiting import wait_until
from tests.adapters.test_telegram import ALICE, BOB, GROUP, SECRET, TOKEN, buttons, picks, say

ALICE_REF = UserRef("telegram", str(ALICE))


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def store() -> MemoryProfileStore:
    return MemoryProfileStore()


@pytest.fixture
async def bot(
    fake: FakeTelegram,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: MemoryProfileStore,
) -> AsyncIterator[Recommender]:
    """The moviebot Application polling the stand-in, its lists kept beside the profiles."""
    recommender = Recommender(sample_index, local_embedder, store, rng=np.random.default_rng(0))
    codec = ButtonCodec(SECRET, sample_index.fingerprint)
    services = ChatServices(
        recommender,
        Subscriptions(store),
        codec,
        UserRateLimit(limit=20, window=60),
        lists=store.shown_lists(),
        languages=Languages(store, LANGUAGES),
    )
    application = build_application(TOKEN, TelegramHandlers(services), f"{fake.url}/bot")
    async with serving(application, poll_timeout=1):
        yield recommender


def button(message: dict[str, Any], text: str) -> str:
    """The callback data of the button labelled ``text`` (the first one)."""
    return next(b["callback_data"] for row in buttons(message) for b in row if b["text"] == text)


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in buttons(message) for b in row]


async def answered(fake: FakeTelegram, query_id: str) -> str:
    calls = await wait_until(
        lambda: [
            call
            for call in fake.calls("answerCallbackQuery")
            if call.params.get("callback_query_id") == query_id
        ]
    )
    return str(calls[0].params.get("text", ""))


async def turn(fake: FakeTelegram, user: int, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Press a button that shows another page; the message as it is then."""
    await answered(fake, fake.press(user, message, data))
    chat = message["chat"]["id"]
    return next(m for m in fake.messages(chat) if m["message_id"] == message["message_id"])


def numbered_titles(message: dict[str, Any]) -> list[str]:
    """``6. Die Hard 2 (1990)`` ... as the cards show them."""
    return [line[3:].split("</b>")[0] for line in message["text"].split("\n") if line[:3] == "<b>"]


async def test_browse_three_pages_of_one_search_and_back(
    bot: Recommender, fake: FakeTelegram
) -> None:
    first = await say(fake, ALICE, "/search die hard")
    assert labels(first)[-1] == "more ▸" and "◂ back" not in labels(first)

    second = await turn(fake, ALICE, first, button(first, "more ▸"))
    third = await turn(fake, ALICE, second, button(second, "more ▸"))

    assert second["text"].startswith("<b>Search results, 6-10 of 50</b>")
    assert third["text"].startswith("<b>Search results, 11-15 of 50</b>")
    pages = [numbered_titles(page)[1:] for page in (first, second, third)]
    numbers = [title.split(". ", 1)[0] for page in pages for title in page]
    assert numbers == [str(n) for n in range(1, 16)]
    movies = [title.split(". ", 1)[1] for page in pages for title in page]
    assert len(set(movies)) == 15 and movies[0] == "Die Hard (1988)"
    assert labels(third)[-2:] == ["◂ back", "more ▸"]
    assert len(fake.messages(ALICE)) == 1  # one message, turned like a page

    back = await turn(fake, ALICE, third, button(third, "◂ back"))
    assert back["text"] == second["text"]
    picked = await answered(fake, fake.press(ALICE, back, picks(back)[0]))
    assert picked == f"✓ picked: {movies[5]}"


async def test_the_last_page_has_no_more(bot: Recommender, fake: FakeTelegram) -> None:
    page = await say(fake, ALICE, "/recommend")
    for _ in range(LIST_LENGTH // 5 - 1):
        page = await turn(fake, ALICE, page, button(page, "more ▸"))
    assert page["text"].startswith("<b>For you, 46-50 of 50</b>")
    assert "more ▸" not in labels(page) and "◂ back" in labels(page)


async def test_like_this_lists_the_nearest_movies_without_the_users_picks(
    bot: Recommender, fake: FakeTelegram
) -> None:
    results = await say(fake, ALICE, "/search die hard")
    assert await answered(fake, fake.press(ALICE, results, button(results, "🔎 like this"))) == ""
    like = fake.messages(ALICE)[-1]
    titles = [title.split(". ", 1)[1] for title in numbered_titles(like)[1:]]
    assert like["text"].startswith("<b>Like Die Hard (1988)</b>")
    assert "Die Hard (1988)" not in titles and "Die Hard 2 (1990)" in titles

    sequel = picks(like)[titles.index("Die Hard 2 (1990)")]
    assert await answered(fake, fake.press(ALICE, like, sequel)) == "✓ picked: Die Hard 2 (1990)"
    again = await say(fake, ALICE, "/similar die hard")
    assert again["text"].startswith("<b>Like Die Hard (1988)</b>")
    assert "Die Hard 2 (1990)" not in again["text"]


async def test_a_bad_page_or_like_this_press_gets_a_short_answer_and_changes_nothing(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    codec = ButtonCodec(SECRET, bot.index.fingerprint)
    results = await say(
        fake, ALICE, "/search@moviebot_test alien", chat_id=GROUP, chat_type="group"
    )
    more = button(results, "more ▸")
    kept = codec.read(ALICE_REF, more)
    past_end = codec.write(ALICE_REF, Button(ButtonAction.PAGE, list_id=kept.list_id, offset=50))
    unknown = codec.write(ALICE_REF, Button(ButtonAction.SIMILAR, 123_456_789))

    async def refused(user: int, data: str) -> str:
        before = (fake.messages(GROUP), fake.messages(ALICE), await store.load(ALICE_REF))
        answer = await answered(fake, fake.press(user, results, data))
        assert (fake.messages(GROUP), fake.messages(ALICE), await store.load(ALICE_REF)) == before
        return answer

    assert await refused(BOB, more) == "These are someone else's picks — run /search yourself."
    assert (await refused(BOB, button(results, "🔎 like this"))).startswith("These are someone")
    assert await refused(ALICE, past_end) == "That's the end of this list."
    assert await refused(ALICE, unknown) == "That movie is not in the catalog; search again."
    for _ in range(KEPT_LISTS):
        await say(fake, ALICE, "/recommend")
    assert await refused(ALICE, more) == "This list has expired — ask for a new one."


async def test_forget_forgets_the_lists_too(bot: Recommender, fake: FakeTelegram) -> None:
    results = await say(fake, ALICE, "/recommend")
    question = await say(fake, ALICE, "/forget")
    assert await answered(fake, fake.press(ALICE, question, button(question, "Yes, forget me")))
    assert fake.messages(ALICE)[-1]["text"] == "Done: I forgot every pick and your taste."
    answer = await answered(fake, fake.press(ALICE, results, button(results, "more ▸")))
    assert answer == "This list has expired — ask for a new one."


async def inline(fake: FakeTelegram, user: int, text: str) -> dict[str, Any]:
    query_id = fake.type_inline(user, text)
    answer = await wait_until(lambda: fake.inline_answer(query_id))
    return {**answer, "id": query_id}


async def test_an_inline_query_offers_cards_whose_link_opens_movies_like_it(
    bot: Recommender, fake: FakeTelegram
) -> None:
    answer = await inline(fake, ALICE, "die hard")
    results = answer["results"]
    assert 0 < len(results) <= INLINE_RESULTS and results[0]["title"] == "Die Hard (1988)"
    assert (answer["is_personal"], answer["cache_time"]) == (True, INLINE_CACHE_SECONDS)
    card = fake.share(ALICE, answer["id"], results[0]["id"], chat_id=GROUP)
    assert card["text"].startswith("<b>Die Hard (1988)</b> · Action, Thriller\nA New York cop")
    assert "which you picked" not in card["text"]
    (link,) = [b["url"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    address = urlsplit(link)
    assert (address.netloc, address.path) == ("t.me", f"/{BOT_USERNAME}")

    (start,) = parse_qs(address.query)["start"]
    opened = await say(fake, BOB, f"/start {start}")

    assert opened["text"].startswith("<b>Like Die Hard (1988)</b>")
    assert "Die Hard 2 (1990)" in opened["text"] and labels(opened)[-1] == "more ▸"


async def test_an_empty_inline_query_offers_the_users_own_recommendations(
    bot: Recommender, fake: FakeTelegram
) -> None:
    results = await say(fake, ALICE, "/search alien")
    await answered(fake, fake.press(ALICE, results, picks(results)[0]))
    mine = [r["title"] for r in (await inline(fake, ALICE, ""))["results"]]
    recommended = await bot.recommend(ALICE_REF, INLINE_RESULTS)
    assert mine == [rec.movie.label for rec in recommended]
    assert mine != [r["title"] for r in (await inline(fake, BOB, ""))["results"]]


async def test_an_unsearchable_inline_query_gets_a_short_answer(
    bot: Recommender, fake: FakeTelegram
) -> None:
    answer = await inline(fake, ALICE, "\u200b\u200e")
    assert answer["results"] == []
    assert answer["button"]["text"].startswith("Type a few words to search for")


async def test_a_start_link_of_an_unknown_movie_says_so(
    bot: Recommender, fake: FakeTelegram
) -> None:
    reply = await say(fake, BOB, "/start like_123456789")
    assert reply["text"] == "That movie is not in the catalog; search again."
    welcome = await say(fake, BOB, "/start like_nonsense")
    assert welcome["text"].startswith("<b>Hi! I recommend movies.</b>")
