"""Signed button payloads: round trips, and every kind of bad payload refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.buttons import (
    FORGET_MINUTES,
    MAX_LIST_ID,
    MAX_MOVIE_ID,
    MAX_OFFSET,
    Button,
    ButtonAction,
    ButtonCodec,
    ExpiredButtonError,
    ForeignButtonError,
    NightAction,
    NightButton,
    StaleButtonError,
    derived_key,
)
from core.browsing import LIST_LENGTH, PAGE_SIZE
from core.errors import InvalidRequestError
from core.lobbies import ChatRef
from core.models import UserRef

SECRET = b"a test secret of 32 bytes length"
CODEC = ButtonCodec(SECRET, fingerprint="d7b2aace02dd5c8a")
ALICE = UserRef("telegram", "1001")
BOB = UserRef("telegram", "1002")

users = st.builds(UserRef, st.sampled_from(["telegram", "discord", "console"]), st.text(min_size=1))
movie_actions = st.sampled_from([ButtonAction.PICK, ButtonAction.DISLIKE, ButtonAction.SIMILAR])
pages = st.builds(
    Button,
    st.just(ButtonAction.PAGE),
    list_id=st.integers(0, MAX_LIST_ID),
    offset=st.integers(0, MAX_OFFSET),
)
buttons = st.builds(Button, movie_actions, st.integers(0, MAX_MOVIE_ID)) | pages


def test_every_list_position_has_a_page_payload() -> None:
    assert LIST_LENGTH - PAGE_SIZE <= MAX_OFFSET
    for wrong in (
        Button(ButtonAction.PAGE, list_id=MAX_LIST_ID + 1),
        Button(ButtonAction.PAGE, offset=-1),
    ):
        with pytest.raises(ValueError, match="no page payload"):
            CODEC.write(ALICE, wrong)


@given(pages)
def test_a_page_of_one_user_is_someone_elses_for_another(button: Button) -> None:
    with pytest.raises(ForeignButtonError):
        CODEC.read(BOB, CODEC.write(ALICE, button))


@given(users, buttons)
def test_round_trip_within_the_platform_limits(user: UserRef, button: Button) -> None:
    payload = CODEC.write(user, button)
    assert CODEC.read(user, payload) == button
    assert CODEC.read(user, payload.encode()) == button
    assert payload.isascii() and len(payload.encode()) <= 64  # Telegram; Discord allows 100


def test_a_payload_is_compact_and_readable() -> None:
    payload = CODEC.write(ALICE, Button(ButtonAction.PICK, 562))
    assert payload.startswith("2pfm.") and len(payload) == 26


def test_another_users_button_is_refused_as_foreign() -> None:
    payload = CODEC.write(ALICE, Button(ButtonAction.PICK, 562))
    with pytest.raises(ForeignButtonError):
        CODEC.read(BOB, payload)
    with pytest.raises(ForeignButtonError):
        CODEC.read(UserRef("discord", "1001"), payload)


def test_a_button_of_a_rebuilt_index_is_stale() -> None:
    payload = CODEC.write(ALICE, Button(ButtonAction.PICK, 562))
    with pytest.raises(StaleButtonError):
        ButtonCodec(SECRET, fingerprint="0000000000000000").read(ALICE, payload)


def test_another_secret_cannot_sign() -> None:
    forged = ButtonCodec(b"an attacker's guess at a secret!", "d7b2aace02dd5c8a")
    payload = forged.write(ALICE, Button(ButtonAction.PICK, 562))
    with pytest.raises(InvalidRequestError):
        CODEC.read(ALICE, payload)


def test_changing_the_movie_or_action_breaks_the_signature() -> None:
    payload = CODEC.write(ALICE, Button(ButtonAction.PICK, 562))
    for changed in (payload.replace("2pfm.", "2pfn."), payload.replace("2pfm.", "2dfm.")):
        with pytest.raises(StaleButtonError):
            CODEC.read(ALICE, changed)


@pytest.mark.parametrize("cut", [1, 5, 10, 24])
def test_truncated_payloads_are_stale(cut: int) -> None:
    payload = CODEC.write(ALICE, Button(ButtonAction.DISLIKE, 562))
    with pytest.raises(StaleButtonError):
        CODEC.read(ALICE, payload[:cut])


def test_every_single_character_change_is_refused() -> None:
    payload = CODEC.write(ALICE, Button(ButtonAction.PICK, 562))
    for position in range(len(payload)):
        for replacement in "0aZ_-.1p":
            changed = payload[:position] + replacement + payload[position + 1 :]
            if changed != payload:
                with pytest.raises(InvalidRequestError):
                    CODEC.read(ALICE, changed)


@given(st.one_of(st.binary(max_size=80), st.text(max_size=80)))
def test_random_input_is_refused_cleanly(payload: bytes | str) -> None:
    with pytest.raises(InvalidRequestError):
        CODEC.read(ALICE, payload)


def test_a_short_secret_or_a_bad_movie_id_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        ButtonCodec(b"short", "f")
    with pytest.raises(ValueError, match="out of range"):
        CODEC.write(ALICE, Button(ButtonAction.PICK, -1))


def test_a_button_of_the_previous_secret_still_works_after_a_rotation() -> None:
    previous = b"the secret before the rotation!!"
    before = ButtonCodec(previous, "d7b2aace02dd5c8a").write(ALICE, Button(ButtonAction.PICK, 7))
    rotated = ButtonCodec(SECRET, "d7b2aace02dd5c8a", previous=[previous])

    assert rotated.read(ALICE, before) == Button(ButtonAction.PICK, 7)
    with pytest.raises(ForeignButtonError):
        rotated.read(BOB, before)
    with pytest.raises(StaleButtonError):  # signed with neither: out of date, not foreign
        CODEC.read(ALICE, before)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_forget_confirmation_expires() -> None:
    clock = Clock()
    codec = ButtonCodec(SECRET, "d7b2aace02dd5c8a", clock=clock)
    payload = codec.write(ALICE, Button(ButtonAction.FORGET))

    clock.now += FORGET_MINUTES * 60
    assert codec.read(ALICE, payload) == Button(ButtonAction.FORGET)
    clock.now += 60
    with pytest.raises(ExpiredButtonError):
        codec.read(ALICE, payload)


def test_the_keys_of_buttons_and_webhooks_are_derived_apart() -> None:
    assert derived_key(SECRET, "buttons") != derived_key(SECRET, "telegram-webhook")
    assert SECRET not in derived_key(SECRET, "buttons")


GROUP = ChatRef("telegram", "-1001234567890")
chats = st.builds(ChatRef, st.sampled_from(["telegram", "discord"]), st.text(min_size=1))
night_buttons = st.builds(
    NightButton,
    st.sampled_from(list(NightAction)),
    st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10),
    st.integers(0, 9),
)


@given(chats, night_buttons)
def test_a_movie_nights_payload_round_trips_within_the_limits(
    chat: ChatRef, button: NightButton
) -> None:
    payload = CODEC.write_night(chat, button)
    assert CODEC.read_night(chat, payload) == button
    assert payload.isascii() and len(payload.encode()) <= 64


def test_a_movie_nights_payload_is_bound_to_its_chat_not_to_a_user_or_index() -> None:
    payload = CODEC.write_night(GROUP, NightButton(NightAction.JOIN, "k3x9a2"))
    assert payload.startswith("njk3x9a2.0")
    assert ButtonCodec(SECRET, fingerprint="another index").read_night(GROUP, payload)
    for elsewhere in (ChatRef("telegram", "-100999"), ChatRef("discord", GROUP.chat_id)):
        with pytest.raises(StaleButtonError):
            CODEC.read_night(elsewhere, payload)


def test_a_tampered_movie_nights_payload_is_stale() -> None:
    payload = CODEC.write_night(GROUP, NightButton(NightAction.VOTE, "k3x9a2", 3))
    tampered = [
        payload.replace(".3", ".4"),
        payload.replace("nv", "ns"),
        payload.replace("k3x9a2", "k3x9a3"),
        payload[:-1] + ("A" if payload[-1] != "A" else "B"),
        payload[:-2],
        "nx" + payload[2:],
        CODEC.write(ALICE, Button(ButtonAction.PICK, 562)),
    ]
    for bad in tampered:
        with pytest.raises(StaleButtonError):
            CODEC.read_night(GROUP, bad)
    with pytest.raises(StaleButtonError):
        CODEC.read(ALICE, payload)


def test_the_previous_secret_still_reads_a_movie_nights_buttons() -> None:
    payload = CODEC.write_night(GROUP, NightButton(NightAction.WATCHED, "k3x9a2"))
    rotated = ButtonCodec(b"the new secret, also of 32 bytes", "d7b2aace02dd5c8a", [SECRET])
    assert rotated.read_night(GROUP, payload) == NightButton(NightAction.WATCHED, "k3x9a2")
    with pytest.raises(StaleButtonError):
        ButtonCodec(b"the new secret, also of 32 bytes", "d7b2").read_night(GROUP, payload)


def test_a_movie_night_button_that_cannot_be_written_is_refused() -> None:
    for bad in (NightButton(NightAction.VOTE, "k3x9a2", 10), NightButton(NightAction.JOIN, "K!")):
        with pytest.raises(ValueError):
            CODEC.write_night(GROUP, bad)
