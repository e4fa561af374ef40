"""The Telegram bot in Russian, as a person whose app speaks Russian uses it: the real
python-telegram-bot against the Bot API stand-in, the real Recommender on the sample."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import AIORateLimiter, ExtBot

from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES
from adapters.telegram.notifier import TelegramNotifier
from core.index import MovieIndex
from core.languages import Languages
from core.models import Subscription, UserRef
from core.push import WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until
from tests.adapters.test_telegram import (  # the fixtures, shared
    ALICE,
    BOB,
    SECRET,
    TOKEN,
    bot,
    fake,
    press,
    say,
    store,
)

__all__ = ["bot", "fake", "store"]
FRIDAY_9_IN_MOSCOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def buttons(message: dict[str, object]) -> list[list[dict[str, str]]]:
    return message["reply_markup"]["inline_keyboard"]  # type: ignore[index]


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
    assert all(row[1]["text"] == "👎 меньше такого" for row in buttons(pushed))


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
