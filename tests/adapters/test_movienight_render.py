"""What a movie night says, on both platforms, checked without a network."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from adapters import movienight_texts as night_texts
from adapters.buttons import ButtonCodec, NightAction, NightButton
from adapters.discord import movienight_render as discord_render
from adapters.i18n import words
from adapters.telegram import movienight_render as telegram_render
from core.group import GroupPick
from core.lobbies import ChatRef, Lobby, LobbyState, Member, NightSettings
from core.models import Movie, UserRef
from core.movienight import NightDecided, NightStarted
from testing.telegram_api import check_text

CODEC = ButtonCodec(b"a render test secret, 32 bytes!!", "f1")
GROUP = ChatRef("telegram", "-100200300")
NAMES = ("Alice", "<b>Bob</b> & co", "@everyone *Carol*")
MEMBERS = tuple(Member(UserRef("telegram", str(n)), name) for n, name in enumerate(NAMES, 1))
MOVIES = [
    Movie(100 + n, f"Movie {n} " + "with a long title " * (n == 2) * 10, 1990 + n, ("Drama",))
    for n in range(5)
]
EN, RU = words("en"), words("ru")
FITS = [(0.95, 0.97, 0.99), (0.95, 0.2, 0.91), (0.1, 0.5, 0.8), (0.9, 0.9, 0.9), (1.0, 1.0, 0.3)]


def night(state: LobbyState = LobbyState.VOTING, votes: dict[str, int] | None = None) -> Lobby:
    return Lobby(
        lobby_id="k3x9a2",
        chat=GROUP,
        members=MEMBERS,
        state=state,
        opened_at=0.0,
        starts_at=600.0,
        expires_at=7200.0,
        options=tuple(movie.movie_id for movie in MOVIES),
        votes=votes or {},
    )


def started(combined: tuple[Member, ...] = MEMBERS) -> NightStarted:
    fits = FITS if combined else [()] * 5
    picks = tuple(GroupPick(movie, 1.0, fit) for movie, fit in zip(MOVIES, fits, strict=True))
    return NightStarted(night(), picks, combined, tuple(m for m in MEMBERS if m not in combined))


def test_telegram_escapes_members_names_and_signs_its_buttons() -> None:
    lobby = telegram_render.lobby(EN, night(LobbyState.OPEN), CODEC, NightSettings())
    check_text(lobby.text, "HTML")
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in lobby.text
    assert "2 to 12 people" in lobby.text and "by itself 10 minutes after opening" in lobby.text
    assert lobby.keyboard is not None
    payloads = [button.callback_data for row in lobby.keyboard.inline_keyboard for button in row]
    read = [CODEC.read_night(GROUP, str(payload)) for payload in payloads]
    assert read == [
        NightButton(NightAction.JOIN, "k3x9a2"),
        NightButton(NightAction.START, "k3x9a2"),
    ]


def test_telegrams_list_and_poll_fit_its_limits() -> None:
    listed = telegram_render.group_list(EN, started())
    check_text(listed.text, "HTML")
    assert listed.text.count("<i>") == 5 and "fits 2 of 3 · leans to Alice's taste" in listed.text
    options = telegram_render.poll_options(started())
    assert options[0] == "1. Movie 0 (1990)" and all(len(option) <= 100 for option in options)
    decided = telegram_render.decided(EN, NightDecided(night(LobbyState.DECIDED), MOVIES[0]), CODEC)
    assert decided.keyboard is not None
    (watched,) = decided.keyboard.inline_keyboard[0]
    assert CODEC.read_night(GROUP, str(watched.callback_data)).action is NightAction.WATCHED
    assert "fits" not in telegram_render.group_list(EN, started(())).text


def children(view: Any) -> list[Any]:
    return list(view.children)


def custom_ids(view: Any) -> list[str]:
    return [item.item.custom_id for item in children(view)]


def test_discords_vote_shows_a_live_count_per_option() -> None:
    discord_chat = ChatRef("discord", "555")
    lobby = replace(night(votes={"1": 1, "2": 1, "3": 0}), chat=discord_chat)

    view = discord_render.vote_view(EN, lobby, CODEC)

    labels = [item.item.label for item in children(view)]
    votes = ["1 · 1 vote", "2 · 2 votes", "3 · 0 votes", "4 · 0 votes", "5 · 0 votes"]
    assert labels == [*votes, night_texts.CLOSE_VOTE_BUTTON]
    assert all(custom_id.startswith("mn:") for custom_id in custom_ids(view))
    presses = [CODEC.read_night(discord_chat, c.removeprefix("mn:")) for c in custom_ids(view)]
    assert [press.option for press in presses[:5]] == [0, 1, 2, 3, 4]
    assert presses[5].action is NightAction.CLOSE


def test_discord_escapes_members_names() -> None:
    reply = discord_render.lobby(EN, night(LobbyState.OPEN), CODEC, NightSettings())
    assert "@everyone" not in reply.content.replace("@\u200beveryone", "")
    assert "\\*Carol\\*" in reply.content
    started_reply = discord_render.group_list(EN, started(), CODEC)
    assert len(started_reply.embeds) == 5
    assert "leans to Alice's taste" in str(started_reply.embeds[1].description)


def test_a_russian_night_renders_in_russian_on_both_platforms() -> None:
    """The group's messages in Russian stay HTML Telegram accepts, the poll's options fit,
    and Discord's vote counts take Russian plural forms."""
    lobby = telegram_render.lobby(RU, night(LobbyState.OPEN), CODEC, NightSettings())
    check_text(lobby.text, "HTML")
    assert lobby.text.startswith("🎬 Киновечер! Нажмите «🙋 Я в деле», чтобы участвовать")
    assert "от 2 до 12 человек" in lobby.text and "через 10 минут после открытия" in lobby.text
    listed = telegram_render.group_list(RU, started())
    check_text(listed.text, "HTML")
    assert listed.text.startswith("<b>Подборка на вечер для всех 3 участников</b>")
    assert "подходит 2 из 3 · ближе всего ко вкусу: Alice" in listed.text
    assert telegram_render.close_keyboard(RU, night(), CODEC).inline_keyboard[0][0].text == (
        "🏁 Закрыть голосование"
    )
    view = discord_render.vote_view(RU, night(votes={"1": 1, "2": 1, "3": 0}), CODEC)
    labels = [item.item.label for item in children(view)]
    assert labels[:3] == ["1 · 1 голос", "2 · 2 голоса", "3 · 0 голосов"]
