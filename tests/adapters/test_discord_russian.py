"""The Discord bot in Russian, as a person whose client speaks Russian uses it: the real
discord.py against the gateway and REST stand-in, the real Recommender on the sample."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.buttons import ButtonCodec
from adapters.discord.bot import MovieBot
from adapters.discord.notifier import DiscordNotifier
from adapters.i18n import LANGUAGES
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.models import Subscription, UserRef
from core.push import WeeklyPush
from core.recommender import Recommender
from core.stores.redis import RedisProfileStore
from testing.discord_api import FakeDiscord
from testing.waiting import wait_until
from tests.adapters import test_discord_movienight as night
from tests.adapters.test_discord import (  # the fixtures, shared
    ALICE,
    BOB,
    GUILD,
    SECRET,
    bot,
    custom_ids,
    fake,
    followup_texts,
    labels,
    press,
    running_bot,
    shown,
    slash,
    store,
)
from tests.adapters.test_discord_cards import turn

__all__ = ["bot", "fake", "store"]
FRIDAY_9_IN_MOSCOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture
async def rated_bot(
    fake: FakeDiscord,
    rated_index: MovieIndex,
    local_embedder: OnnxEmbedder,
    store: RedisProfileStore,
) -> AsyncIterator[MovieBot]:
    """The bot on a catalog with ratings, runtimes and TMDB ids, as cards show them."""
    async with running_bot(rated_index, local_embedder, store) as client:
        yield client


async def test_commands_carry_russian_names_and_descriptions(
    bot: MovieBot, fake: FakeDiscord
) -> None:
    commands = {command["name"]: command for command in fake.commands()}
    search = commands["search"]
    assert search["name_localizations"] == {"ru": "поиск"}
    assert search["description_localizations"] == {
        "ru": "Найти фильмы по названию, сюжету или настроению"
    }
    assert search["options"][0]["name_localizations"] == {"ru": "текст"}
    day = commands["subscribe"]["options"][0]
    friday = next(choice for choice in day["choices"] if choice["value"] == 4)
    assert friday["name_localizations"] == {"ru": "Пятница"}
    assert commands["language"]["name_localizations"] == {"ru": "язык"}
    similar = commands["similar"]
    assert similar["name_localizations"] == {"ru": "похожие"}
    assert similar["description_localizations"] == {"ru": "Фильмы, похожие на названный"}
    assert similar["options"][0]["name_localizations"] == {"ru": "название"}
    assert commands["movienight"]["name_localizations"] == {"ru": "киновечер"}
    assert commands["movienight"]["description_localizations"] == {
        "ru": "Один фильм на всю группу, голосованием"
    }


async def test_search_pick_recommend_and_a_refusal_in_russian(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    fake.set_locale(ALICE, "ru")
    results = await slash(fake, ALICE, "search", text="a cop fights terrorists in a skyscraper")
    assert results.content == "**Результаты поиска**"
    message = shown(fake, results)
    assert labels(message)[1] == "👎 меньше такого"
    pick = await press(fake, ALICE, message, custom_ids(results)[0])
    assert followup_texts(fake, pick)[0].startswith("✓ выбрано: ")

    recommended = await slash(fake, ALICE, "recommend")
    assert recommended.content == "**Подборка для вас**"
    assert "из вашего выбора" in recommended.embeds[0]["description"]
    profile = await slash(fake, ALICE, "profile")
    assert profile.embeds[0]["title"] == "1 выбор, 0 «меньше такого»"

    refused = await slash(fake, ALICE, "subscribe", timezone="Mars/Base")
    assert refused.ephemeral
    assert refused.content == (
        "Неизвестный часовой пояс «Mars/Base»; укажите название вроде Europe/Moscow или UTC."
    )
    assert await store.subscription(UserRef("discord", str(ALICE))) is None


async def test_a_query_in_cyrillic_gets_a_hint_from_the_english_model(
    bot: MovieBot, fake: FakeDiscord
) -> None:
    fake.set_locale(ALICE, "ru")
    results = await slash(fake, ALICE, "search", text="крепкий орешек")
    assert results.content.endswith("например Die Hard.*")


async def test_subscribe_in_russian_and_the_push_speaks_russian(
    bot: MovieBot,
    fake: FakeDiscord,
    store: RedisProfileStore,
    sample_index: MovieIndex,
    local_embedder: OnnxEmbedder,
) -> None:
    fake.set_locale(ALICE, "ru")
    alice = UserRef("discord", str(ALICE))
    confirmed = await slash(fake, ALICE, "subscribe", day=4, hour=9, timezone="Europe/Moscow")
    assert confirmed.content.startswith("Подписка оформлена: каждую пятницу в 09:00")
    assert await store.subscription(alice) == Subscription(4, 9, "Europe/Moscow")
    assert await store.language(alice) == "ru"

    recommender = Recommender(sample_index, local_embedder, store)
    codec = ButtonCodec(SECRET, sample_index.fingerprint)
    notifier = DiscordNotifier(bot, codec, Languages(store, LANGUAGES))
    push = WeeklyPush(recommender, store, store.push_ledger(), [notifier])
    before = len(fake.dms(ALICE))
    assert (await push.run(FRIDAY_9_IN_MOSCOW)).sent == 1
    pushed = fake.dms(ALICE)[before]
    assert pushed["content"] == "**Подборка недели: шаг в сторону от вашего вкуса**"
    assert labels(pushed)[1:3] == ["👎 меньше такого", "🔎 похожие"]


async def test_cards_and_pages_in_russian(rated_bot: MovieBot, fake: FakeDiscord) -> None:
    fake.set_locale(ALICE, "ru")
    results = await slash(fake, ALICE, "search", text="die hard")
    assert results.content == "**Результаты поиска**"
    die_hard = results.embeds[0]
    assert die_hard["title"] == "1. Die Hard (1988)"
    assert die_hard["url"] == "https://www.themoviedb.org/movie/562"
    assert die_hard["description"].startswith("★ 7,5 (42 голоса) · 2 ч 11 мин\nA New York cop")
    first = shown(fake, results)
    assert labels(first)[:3] == ["👍 1. Die Hard", "👎 меньше такого", "🔎 похожие"]
    assert labels(first)[-1] == "ещё ▸"

    second = await turn(fake, ALICE, first, "ещё ▸")
    assert second["content"] == "**Результаты поиска, 6-10 из 50**"
    assert second["embeds"][0]["title"].startswith("6. ")
    assert labels(second)[-2:] == ["◂ назад", "ещё ▸"]
    back = await turn(fake, ALICE, second, "◂ назад")
    assert back["content"] == "**Результаты поиска**" and back["embeds"] == first["embeds"]

    similar = await slash(fake, ALICE, "similar", title="Die Hard (1988)")
    assert similar.content == "**Похожие на Die Hard (1988)**"
    assert "Die Hard 2 (1990)" in " ".join(embed["title"] for embed in similar.embeds)


async def test_language_overrides_the_client_and_forget_forgets_it(
    bot: MovieBot, fake: FakeDiscord, store: RedisProfileStore
) -> None:
    bob = UserRef("discord", str(BOB))
    assert (await slash(fake, BOB, "language", code="ru")).content == (
        "Теперь я говорю с вами по-русски."
    )
    assert await store.language(bob) == "ru"
    unsubscribed = await slash(fake, BOB, "unsubscribe")
    assert unsubscribed.content == "Подписки и не было."
    question_id = fake.slash(BOB, "forget", guild_id=GUILD)
    (question,) = await wait_until(lambda: fake.answers(question_id))
    assert question.content == "Удалить все ваши выборы и вкус? Это необратимо."
    confirm = fake.press(BOB, fake.message_of(question_id), custom_ids(question)[0])
    await wait_until(lambda: [a for a in fake.answers(confirm) if a.kind == "edit"])
    forgotten = fake.message_of(question_id)
    assert forgotten is not None
    assert forgotten["content"] == "Готово: я забыл все ваши выборы и вкус."
    assert await store.language(bob) is None
    assert (await slash(fake, BOB, "language")).content.startswith("I speak English with you.")


async def test_a_movie_night_in_russian_through_to_the_winner(
    bot: MovieBot, fake: FakeDiscord
) -> None:
    """Alice opens it from a Russian client: the channel reads Russian; what only Bob
    sees (his direct message, the answer to his press) speaks his English."""
    fake.set_locale(ALICE, "ru")
    results = await slash(fake, ALICE, "search", text="a cop fights terrorists in a skyscraper")
    await press(fake, ALICE, shown(fake, results), custom_ids(results)[0])
    lobby = await night.opened(fake)
    assert lobby["content"].startswith(
        "🎬 Киновечер! Нажмите «🙋 Я в деле», чтобы участвовать: от 2 до 12 человек."
    )
    await night.press(fake, BOB, lobby, night.button(lobby, "🙋 Я в деле"))
    assert night.current(fake, lobby)["content"].endswith(f"Участвуют: User {ALICE}, User {BOB}")
    await night.press(fake, ALICE, lobby, night.button(lobby, "▶ Начать"))

    channel = night.channel_of(lobby)
    vote = await night.shown(fake, channel, night.has("Что смотрим сегодня?"))
    assert vote["content"].startswith("**Подборка на вечер по вкусу 1 из вас")
    assert night.labels(vote) == [f"{n} · 0 голосов" for n in range(1, 6)] + [
        "🏁 Закрыть голосование"
    ]
    (dm,) = await wait_until(lambda: fake.dms(BOB))
    assert dm["content"].startswith("You joined a movie night, but you have no picks yet")

    await night.press(fake, BOB, vote, night.button(vote, "2 ·"))
    assert night.labels(night.current(fake, vote))[:2] == ["1 · 0 голосов", "2 · 1 голос"]
    await night.press(fake, ALICE, vote, night.button(vote, "🏁 Закрыть голосование"))
    winner = await night.shown(fake, channel, night.has("🏆"))
    title = vote["embeds"][1]["title"].split(". ", 1)[1]
    assert winner["content"].startswith(f"🏆 Сегодня смотрим: {title} (1 из 1 голоса).")
    assert night.current(fake, vote)["content"] == f"Голосование закрыто: победил {title}."
    answers = await night.press(fake, BOB, winner, night.button(winner, "✓ Посмотрено"))
    assert answers[-1].content == f"✓ picked: {title}" and answers[-1].ephemeral
