"""The Telegram bot in Russian, as a person whose app speaks Russian uses it: the real
python-telegram-bot against the Bot API stand-in, the real Recommender on the sample
(and, for a movie night, profiles and lobbies in the local Redis)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from telegram.ext import AIORateLimiter, ExtBot

from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES
from adapters.telegram.notifier import TelegramNotifier
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.models import Subscription, UserRef
from core.push import WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from testing.local_redis import local_redis_store
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until
from tests.adapters import test_telegram_movienight as night
from tests.adapters.test_telegram import (  # the fixtures, shared
    ALICE,
    BOB,
    SECRET,
    TOKEN,
    bot,
    fake,
    press,
    running_bot,
    say,
    store,
)
from tests.adapters.test_telegram_cards import button, inline, labels, turn
from tests.core.stores.conftest import ManualClock

__all__ = ["bot", "fake", "store"]
FRIDAY_9_IN_MOSCOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
CAROL, GROUP = 1003, night.GROUP


def buttons(message: dict[str, object]) -> list[list[dict[str, str]]]:
    return message["reply_markup"]["inline_keyboard"]  # type: ignore[index]


@pytest.fixture
async def rated_bot(
    fake: FakeTelegram,
    rated_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: MemoryProfileStore,
) -> AsyncIterator[Recommender]:
    """The bot on a catalog with ratings, runtimes and TMDB ids, as cards show them."""
    async with running_bot(fake, rated_index, local_embedder, store) as recommender:
        yield recommender


async def test_commands_are_listed_in_russian_for_russian_apps(
    bot: Recommender, fake: FakeTelegram
) -> None:
    await wait_until(lambda: fake.commands_of("ru"))
    russian = {command["command"]: command["description"] for command in fake.commands_of("ru")}
    english = {command["command"]: command["description"] for command in fake.commands}
    assert russian.keys() == english.keys()
    assert russian["search"] == "найти фильмы по названию, сюжету или настроению"
    assert english["search"] == "find movies by title, plot or mood"


async def test_search_pick_recommend_and_a_refusal_in_russian(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    fake.set_language(ALICE, "ru")
    welcome = await say(fake, ALICE, "/start")
    assert welcome["text"].startswith("<b>Привет! Я советую фильмы.</b>\n")
    assert "<b>Для начала</b>" in welcome["text"]

    found = await say(fake, ALICE, "/search die hard")
    assert found["text"].startswith("<b>Результаты поиска</b>\n\n<b>1. Die Hard (1988)</b>")
    pick, less = buttons(found)[0]
    assert less["text"] == "👎 меньше такого"
    assert await press(fake, ALICE, found, pick["callback_data"]) == "✓ выбрано: Die Hard (1988)"

    suggested = await say(fake, ALICE, "/recommend")
    assert suggested["text"].startswith("<b>Подборка для вас</b>")
    assert "похож на Die Hard (1988) из вашего выбора" in suggested["text"]
    assert (await say(fake, ALICE, "/profile"))["text"].startswith(
        "<b>1 выбор</b>, 0 «меньше такого»"
    )

    refused = await say(fake, ALICE, "/explore 7")
    assert refused["text"] == "Сила — от 0 (ваш вкус) до 1 (далеко от него)."
    unknown = await say(fake, ALICE, "/language klingon")
    assert unknown["text"] == "Языка «klingon» я не знаю. Выберите один из: en, ru."
    profile = await store.load(UserRef("telegram", str(ALICE)))
    assert profile is not None and len(profile.picked) == 1


async def test_a_query_in_cyrillic_gets_a_hint_from_the_english_model(
    bot: Recommender, fake: FakeTelegram
) -> None:
    fake.set_language(ALICE, "ru")
    found = await say(fake, ALICE, "крепкий орешек")
    assert found["text"].endswith("ищите по английскому названию фильма, например Die Hard.</i>")
    latin = await say(fake, ALICE, "die hard")
    assert "английскому" not in latin["text"]


async def test_subscribe_in_russian_and_the_push_speaks_russian(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore, sample_index: MovieIndex
) -> None:
    fake.set_language(ALICE, "ru")
    alice = UserRef("telegram", str(ALICE))
    confirmed = await say(fake, ALICE, "/subscribe пт 9 Europe/Moscow")
    assert confirmed["text"].startswith(
        "Подписка оформлена: каждую пятницу в 09:00 (Europe/Moscow)"
    )
    assert await store.subscription(alice) == Subscription(4, 9, "Europe/Moscow")
    assert await store.language(alice) == "ru"

    before = len(fake.messages(ALICE))
    sender = ExtBot(TOKEN, f"{fake.url}/bot", rate_limiter=AIORateLimiter(max_retries=1))
    codec = ButtonCodec(SECRET, sample_index.fingerprint)
    notifier = TelegramNotifier(sender, codec, Languages(store, LANGUAGES))
    async with sender:
        report = await WeeklyPush(bot, store, store.push_ledger(), [notifier]).run(
            FRIDAY_9_IN_MOSCOW
        )
    assert report.sent == 1
    pushed = fake.messages(ALICE)[before]
    assert pushed["text"].startswith(
        "<b>Подборка недели: шаг в сторону от вашего вкуса</b>\n\n<b>1. "
    )
    movie_rows = [row for row in buttons(pushed) if row[0]["text"].startswith("👍")]
    assert movie_rows and all(row[1]["text"] == "👎 меньше такого" for row in movie_rows)
    assert labels(pushed).count("🔎 похожие") == len(movie_rows)


async def test_cards_and_pages_in_russian(rated_bot: Recommender, fake: FakeTelegram) -> None:
    fake.set_language(ALICE, "ru")
    first = await say(fake, ALICE, "/search die hard")
    assert first["text"].startswith(
        "<b>Результаты поиска</b>\n\n<b>1. Die Hard (1988)</b> · Action, Thriller\n"
        "★ 7,5 (42 голоса) · 2 ч 11 мин\nA New York cop"
    )
    assert labels(first)[:4] == ["👍 1. Die Hard", "👎 меньше такого", "🔎 похожие", "TMDB ↗"]
    assert labels(first)[-1] == "ещё ▸" and "◂ назад" not in labels(first)

    second = await turn(fake, ALICE, first, button(first, "ещё ▸"))
    assert second["text"].startswith("<b>Результаты поиска, 6-10 из 50</b>\n\n<b>6. ")
    assert labels(second)[-2:] == ["◂ назад", "ещё ▸"]
    back = await turn(fake, ALICE, second, button(second, "◂ назад"))
    assert back["text"] == first["text"]

    assert await press(fake, ALICE, back, button(back, "🔎 похожие")) == ""
    like = fake.messages(ALICE)[-1]
    assert like["text"].startswith("<b>Похожие на Die Hard (1988)</b>")
    assert "Die Hard 2 (1990)" in like["text"]
    similar = await say(fake, ALICE, "/similar die hard")
    assert similar["text"].startswith("<b>Похожие на Die Hard (1988)</b>")


async def test_a_russian_inline_query_offers_russian_cards(
    rated_bot: Recommender, fake: FakeTelegram
) -> None:
    fake.set_language(BOB, "ru")
    answer = await inline(fake, BOB, "die hard")
    card = fake.share(BOB, answer["id"], answer["results"][0]["id"], chat_id=GROUP)
    assert card["text"].startswith(
        "<b>Die Hard (1988)</b> · Action, Thriller\n★ 7,5 (42 голоса) · 2 ч 11 мин\n"
    )
    assert labels(card) == ["🔎 найти похожие фильмы", "TMDB ↗"]
    assert answer["results"][0]["description"].startswith("★ 7,5 (42 голоса) · 2 ч 11 мин · ")
    english = await inline(fake, ALICE, "die hard")
    assert english["results"][0]["description"].startswith("★ 7.5 (42 votes) · 2h 11m · ")


async def test_language_overrides_the_app_and_forget_forgets_it(
    bot: Recommender, fake: FakeTelegram, store: MemoryProfileStore
) -> None:
    fake.set_language(BOB, "en-US")
    bob = UserRef("telegram", str(BOB))
    assert (await say(fake, BOB, "/language"))["text"].startswith("I speak English with you.")
    assert (await say(fake, BOB, "/language ru"))["text"] == "Теперь я говорю с вами по-русски."
    assert await store.language(bob) == "ru"
    assert (await say(fake, BOB, "/help"))["text"].startswith(
        "<b>Команды</b>\n/start — что умеет бот"
    )

    question = await say(fake, BOB, "/forget")
    assert question["text"] == "Удалить все ваши выборы и вкус? Это необратимо."
    assert await press(fake, BOB, question, buttons(question)[0][0]["callback_data"]) == "Забыто."
    assert await store.language(bob) is None
    assert (await say(fake, BOB, "/language"))["text"].startswith("I speak English with you.")


@pytest.fixture
async def night_bot(
    fake: FakeTelegram, sample_index: MovieIndex, local_embedder: OnnxEmbedder
) -> AsyncIterator[night.Bot]:
    """The bot with movie night, its profiles and lobbies in the local Redis."""
    async with (
        local_redis_store(f"moviebot-test-{uuid.uuid4().hex[:12]}") as redis_store,
        night.running_bot(fake, sample_index, local_embedder, redis_store, ManualClock()) as bot,
    ):
        yield bot


async def test_a_movie_night_in_russian_through_to_the_winner(
    night_bot: night.Bot, fake: FakeTelegram
) -> None:
    """Alice opens it from a Russian app: the group reads Russian; what only one member
    reads (the answer to a press, a private word) speaks that member's language."""
    fake.set_language(ALICE, "ru")
    fake.set_language(CAROL, "ru")
    await night.picked(night_bot, ALICE, "die hard", "alien")
    await night.picked(night_bot, BOB, "toy story")
    fake.type_text(ALICE, "/movienight@moviebot_test", chat_id=GROUP, chat_type="supergroup")
    lobby = await night.new_message(fake, GROUP, night.text_has("Киновечер!"))
    assert lobby["text"] == (
        "🎬 Киновечер! Нажмите «🙋 Я в деле», чтобы участвовать: от 2 до 12 человек. "
        "Старт — когда User1001 нажмёт «▶ Начать» или сам через 10 минут после открытия.\n"
        "Участвуют: User1001"
    )
    join = night.button(lobby, "🙋 Я в деле")
    assert await night.press(fake, BOB, lobby, join) == "You're in!"
    assert await night.press(fake, CAROL, lobby, join) == "Вы в деле!"
    assert await night.press(fake, CAROL, lobby, join) == "Вы уже в деле."
    await night.new_message(fake, GROUP, night.text_has("Участвуют: User1001, User1002, User1003"))
    start = night.button(lobby, "▶ Начать")
    refused = "Only the one who opened this movie night can do that."
    assert await night.press(fake, BOB, lobby, start) == refused
    await night.press(fake, ALICE, lobby, start)

    listed = await night.new_message(fake, GROUP, night.text_has("Подборка на вечер"))
    assert listed["text"].startswith(
        "<b>Подборка на вечер по вкусу 2 из вас — тех, кто уже что-то выбирал</b>\n\n<b>1. "
    )
    assert listed["text"].count("<i>подходит ") + listed["text"].count("<i>ближе всего") == 5
    poll = await night.the_vote(fake, night_bot, night.lobby_id(join))
    assert poll["poll"]["question"] == "Что смотрим сегодня?"
    assert fake.messages(GROUP)[0]["text"] == (
        "🎬 Киновечер начался! Участвуют: User1001, User1002, User1003."
    )
    told = await wait_until(lambda: fake.messages(CAROL))
    assert told[0]["text"].startswith("Вы присоединились к киновечеру, но пока ничего не выбирали")

    for voter, option in ((BOB, 1), (CAROL, 1), (ALICE, 0)):
        fake.answer_poll(voter, poll["poll"]["id"], [option])
    await night.stored(night_bot, night.lobby_id(join), lambda stored: len(stored.votes) == 3)
    await night.press(fake, ALICE, poll, night.button(poll, "🏁 Закрыть голосование"))

    winner = await night.new_message(fake, GROUP, night.text_has("🏆"))
    second = poll["poll"]["options"][1]["text"].split(". ", 1)[1]
    assert winner["text"] == (
        f"🏆 Сегодня смотрим: {second} (2 из 3 голосов). Приятного просмотра! Уже посмотрели? "
        "Нажмите «✓ Посмотрено», и фильм попадёт в ваш выбор."
    )
    watched = night.button(winner, "✓ Посмотрено")
    assert await night.press(fake, CAROL, winner, watched) == f"✓ выбрано: {second}"
    assert await night.press(fake, BOB, winner, watched) == f"✓ picked: {second}"
