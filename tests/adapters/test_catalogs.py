"""The message catalogs: every message the code marks is translated in every shipped
language, keeps its fields and its markup, fits where the platforms show it, and the
catalogs load compiled or from their source."""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import discord
import pytest
from babel.messages.catalog import Message
from babel.messages.mofile import write_mo
from discord import app_commands

from adapters import card_texts, i18n, texts
from adapters import movienight_texts as night_texts
from adapters.buttons import ButtonCodec
from adapters.discord import movienight_render as discord_night
from adapters.discord import render as discord_render
from adapters.discord.cog import MovieCommands
from adapters.discord.movienight import MovieNightCommands
from adapters.discord.translator import CatalogTranslator
from adapters.telegram import movienight_render as telegram_night
from adapters.telegram import render as telegram_render
from adapters.telegram.bot import command_list
from core.group import GroupPick
from core.lobbies import ChatRef, Lobby, LobbyState, Member, NightSettings
from core.models import (
    Exploration,
    ListKind,
    Movie,
    Page,
    Reason,
    ReasonKind,
    Recommendation,
    UserRef,
)
from core.movienight import NightDecided, NightStarted
from testing import discord_api
from testing.catalogs import TRANSLATED, extracted, translations
from testing.telegram_api import ApiError, check_inline_results, check_markup, check_text
from tests.adapters.test_movienight_texts import NIGHT_REFUSALS

FIELD = re.compile(r"\{[^{}]*\}")
TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
MARKDOWN_SIGNS = "*_~|`"
LINE_MARKDOWN = re.compile(r"^\s*(?:>|#|- |\d+\. )", re.MULTILINE)
LONGEST = Movie(
    1,
    "The Longest Title " * 12,
    1999,
    ("Science Fiction", "Documentary", "Animation"),
    "An overview that goes on " * 40,
    vote_average=9.95,
    vote_count=99,
    runtime=1439,
    tmdb_id=2**62,
)


def key(message: Message) -> tuple[str | None, str]:
    return message.context, message.id[0] if isinstance(message.id, tuple) else message.id


def forms(message: Message) -> list[str]:
    """Every translated form of ``message`` (three for a Russian plural)."""
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def pairs(language: str) -> list[tuple[str, str]]:
    """Each message id (the plural id beside plural forms past the first) with each of
    its translations in ``language``."""
    found = []
    for message in translations(language):
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple) else [message.id]
        for n, form in enumerate(forms(message)):
            found.append((ids[min(n, len(ids) - 1)], form))
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_the_code_says_is_translated(language: str) -> None:
    catalog = translations(language)
    marked = {key(message) for message in extracted() if message.id}
    kept = {key(message): message for message in catalog if message.id}
    assert not marked - kept.keys(), "missing: run python -m testing.catalogs, then translate"
    untranslated = [k for k in marked if not all(forms(kept[k])) or kept[k].fuzzy]
    assert not untranslated
    assert not kept.keys() - marked, "the catalog keeps messages no code says any more"
    assert catalog.num_plurals == 3 if language == "ru" else catalog.num_plurals >= 1


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_keeps_the_fields_of_its_message(language: str) -> None:
    for message_id, translation in pairs(language):
        expected = Counter(FIELD.findall(message_id)) - Counter({"{count}": 99})
        found = Counter(FIELD.findall(translation)) - Counter({"{count}": 99})
        assert found == expected, (message_id, translation)


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_keeps_the_markup_it_is_rendered_into(language: str) -> None:
    """Telegram reads HTML, Discord markdown: a translation brings no tag and no markdown
    sign that its message does not have, and a message with tags stays HTML Telegram
    accepts."""
    for message_id, translation in pairs(language):
        assert TAG.findall(translation) == TAG.findall(message_id), translation
        if TAG.search(message_id):
            check_text(translation, "HTML")
        for sign in MARKDOWN_SIGNS:
            assert translation.count(sign) <= message_id.count(sign), (sign, translation)
        lines = len(LINE_MARKDOWN.findall(translation))
        assert lines <= len(LINE_MARKDOWN.findall(message_id)), translation


def test_a_broken_translation_is_caught() -> None:
    """The checks above fail on what a translator could get wrong."""
    assert Counter(FIELD.findall("{film} выбран")) != Counter(FIELD.findall("{movie} picked"))
    assert TAG.findall("<b>Привет!<b>") != TAG.findall("<b>Hi!</b>")
    with pytest.raises(ApiError):
        check_text("<b>Привет!<b>", "HTML")
    assert LINE_MARKDOWN.findall("> цитата") and not LINE_MARKDOWN.findall("a > b")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_reply_fits_where_the_platforms_show_it(language: str) -> None:
    words = i18n.words(language)
    exploring = Reason(ReasonKind.CLOSE_TO_PICK, LONGEST, Exploration("gaussian", 0.75))
    found = [Recommendation(LONGEST, 0.5, exploring)] * 5
    codec = ButtonCodec(b"catalog test secret, 32 bytes!!!", "fingerprint")
    user = UserRef("telegram", "1")
    telegram = telegram_render.movie_list(words, texts.WEEKLY_TITLE, found, user, codec)
    assert len(telegram.text) <= 4096
    check_text(telegram.text, "HTML")
    check_text(telegram_render.help_text(words), "HTML")
    check_text(f"{telegram_render.welcome(words)}\n\n{telegram.text}", "HTML")
    assert all(
        len(button.text) <= 64 for row in telegram.keyboard.inline_keyboard for button in row
    )
    discord_reply = discord_render.movie_list(words, texts.WEEKLY_TITLE, found, user, codec)
    assert len(discord_reply.content) <= 2000 and discord_reply.view is not None
    assert all(len(item.item.label or "") <= 80 for item in discord_reply.view.children)
    help_embed = discord_render.help_reply(words).embeds[0]
    assert len(help_embed.description or "") <= 4096 and len(help_embed.title or "") <= 256
    page = Page(ListKind.SIMILAR, tuple(found), 5, 5, 50, list_id=2**47, about=LONGEST)
    telegram_page = telegram_render.page(words, page, user, codec)
    check_text(telegram_page.text, "HTML")
    assert telegram_page.keyboard is not None
    check_markup(telegram_page.keyboard.to_dict())
    shared = telegram_render.shared_cards(words, found[:1], "moviebot")
    check_inline_results([card.to_dict() for card in shared])
    discord_page = discord_render.page(words, page, user, codec)
    assert discord_page.view is not None
    discord_api.check_limits(
        {
            "content": discord_page.content,
            "embeds": [embed.to_dict() for embed in discord_page.embeds],
            "components": discord_page.view.to_components(),
            "attachments": [],
            "flags": 0,
        }
    )
    for message_id, translation in pairs(language) if language in TRANSLATED else []:
        assert len(translation) <= 1000, message_id


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_short_text_fits_its_platform_limit(language: str) -> None:
    """Telegram: command descriptions of 1-256 characters, a button's answer of at most
    200; Discord: button labels of at most 80 (those of browsing included)."""
    words = i18n.words(language)
    assert all(1 <= len(command.description) <= 256 for command in command_list(language))
    labels = (
        texts.FORGET_BUTTON,
        texts.LESS_LIKE_THIS_BUTTON,
        card_texts.MORE_BUTTON,
        card_texts.BACK_BUTTON,
        card_texts.LIKE_THIS_BUTTON,
        card_texts.FIND_LIKE_THIS_BUTTON,
    )
    for label in labels:
        assert len(words.gettext(label)) <= 80
    popups = [texts.FORGOTTEN_POPUP, texts.SLOW_DOWN, texts.UNAVAILABLE, texts.FULL]
    assert all(len(words.gettext(popup)) <= 200 for popup in popups)


async def test_discord_commands_are_named_and_described_in_every_language() -> None:
    """Each command, option and choice has a Russian name that Discord accepts (1-32
    lower-case letters, digits, - or _) and a description of at most 100 characters."""
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)
    translator = CatalogTranslator()
    name = re.compile(r"[-_\w]{1,32}")
    for command in [*MovieCommands.__cog_app_commands__, *MovieNightCommands.__cog_app_commands__]:
        payload = await command.get_translated_payload(tree, translator)
        assert payload["name_localizations"].keys() == {"ru"}, command.name
        localized = payload["name_localizations"]["ru"]
        assert name.fullmatch(localized) and localized == localized.lower()
        assert localized != command.name and re.search("[\u0430-\u044f]", localized)
        assert 1 <= len(payload["description_localizations"]["ru"]) <= 100
        for option in payload.get("options", []):
            assert name.fullmatch(option["name_localizations"]["ru"]), option
            assert 1 <= len(option["description_localizations"]["ru"]) <= 100
            for choice in option.get("choices", []):
                assert 1 <= len(choice["name_localizations"]["ru"]) <= 100
    await client.close()


def fullest_night(language: str) -> NightStarted:
    """A night of as many members as it may have, the longest names a platform gives,
    voting on the longest titles, opened in ``language``."""
    members = tuple(
        Member(UserRef("telegram", str(n)), f"{n}" + "W" * 64, language) for n in range(12)
    )
    lobby = Lobby(
        lobby_id="k3x9a2k3x9",
        chat=ChatRef("telegram", "-1001234567890"),
        members=members,
        state=LobbyState.DECIDED,
        opened_at=0.0,
        starts_at=1440 * 60.0,
        expires_at=86_400.0,
        options=(LONGEST.movie_id,) * 5,
        votes={str(n): 0 for n in range(12)},
    )
    fits = tuple(0.5 + n / 24 for n in range(11))
    picks = tuple(GroupPick(LONGEST, 1.0, fits) for _ in range(5))
    return NightStarted(lobby, picks, members[:11], members[11:])


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_a_movie_night_fits_where_the_platforms_show_it(language: str) -> None:
    """The lobby, the list, the poll and the winner of the fullest night, in HTML that
    Telegram accepts and within both platforms' limits; every button and popup too."""
    words = i18n.words(language)
    codec = ButtonCodec(b"catalog test secret, 32 bytes!!!", "fingerprint")
    started = fullest_night(language)
    decision = NightDecided(started.lobby, LONGEST)
    settings = NightSettings(start_after=1440 * 60.0)
    telegram = [
        telegram_night.lobby(words, started.lobby, codec, settings).text,
        telegram_night.started_lobby(words, started.lobby).text,
        telegram_night.group_list(words, started).text,
        telegram_night.decided(words, decision, codec).text,
        telegram_night.picks_first_for_others(words, "a" * 32).text,
    ]
    for text in telegram:
        check_text(text, "HTML")
        assert len(text) <= 4096
    assert 1 <= len(words.gettext(night_texts.VOTE_QUESTION)) <= 300
    assert all(len(option) <= 100 for option in telegram_night.poll_options(started))
    listed = discord_night.group_list(words, started, codec)
    assert len(listed.content) <= 2000 and listed.view is not None
    lobby = discord_night.lobby(words, started.lobby, codec, settings)
    assert len(lobby.content) <= 2000 and lobby.view is not None
    for view in (listed.view, lobby.view):
        assert all(len(item.item.label or "") <= 80 for item in view.children)
    buttons = [night_texts.JOIN_BUTTON, night_texts.START_BUTTON, night_texts.WATCHED_BUTTON]
    assert all(len(words.gettext(label)) <= 64 for label in buttons)
    popups = [night_texts.voted(words, True, 4), words.gettext(night_texts.ALREADY_JOINED)]
    popups += [night_texts.night_refusal(words, error) for error, _ in NIGHT_REFUSALS]
    assert all(len(popup) <= 200 for popup in popups)


def test_an_english_locale_keeps_the_names_of_the_code() -> None:
    assert i18n.language_of("en-GB") == i18n.language_of("pt-BR") == i18n.SOURCE_LANGUAGE
    assert i18n.language_of("ru") == i18n.language_of("ru-RU") == i18n.language_of("RU_ru")
    assert i18n.language_of(None) == i18n.SOURCE_LANGUAGE


def test_a_catalog_loads_compiled_and_a_stale_compiled_one_gives_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``.mo`` a build wrote is read while it is at least as new as its ``.po``; a
    ``.po`` changed since (or never built) is compiled on first use."""
    folder = tmp_path / "ru" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "moviebot.po"
    shutil.copy(i18n.catalog_paths("ru")[0], po)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n._catalog("ru").gettext(texts.FOR_YOU) == "Подборка для вас"

    built = translations("ru")
    built[texts.FOR_YOU].string = "из .mo"
    mo = folder / "moviebot.mo"
    with mo.open("wb") as target:
        write_mo(target, built)
    os.utime(po, (1_000_000_000, 1_000_000_000))
    assert i18n._catalog("ru").gettext(texts.FOR_YOU) == "из .mo"

    os.utime(mo, (900_000_000, 900_000_000))
    assert i18n._catalog("ru").gettext(texts.FOR_YOU) == "Подборка для вас"
