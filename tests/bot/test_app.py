"""Wiring decisions that come from settings."""

from __future__ import annotations

import re

import pytest

from bot.app import telegram_webhook
from bot.config import Settings
from core.errors import MovieBotError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URL", "PORT"):
        monkeypatch.delenv(f"MOVIEBOT_TELEGRAM_WEBHOOK_{name}", raising=False)
    monkeypatch.delenv("MOVIEBOT_SECRET", raising=False)


def test_without_a_webhook_url_the_bot_polls() -> None:
    assert telegram_webhook(Settings()) is None


def test_the_webhook_secret_comes_from_the_button_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_PORT", "9000")
    monkeypatch.setenv("MOVIEBOT_SECRET", "a secret of more than sixteen characters")
    hook = telegram_webhook(Settings())
    assert hook is not None and (hook.url, hook.listen, hook.port) == (
        "https://bot.example.org/telegram",
        "0.0.0.0",
        9000,
    )
    # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", hook.secret_token)
    assert telegram_webhook(Settings()) == hook
    monkeypatch.setenv("MOVIEBOT_SECRET", "another secret, also long enough")
    assert telegram_webhook(Settings()).secret_token != hook.secret_token  # type: ignore[union-attr]


def test_a_webhook_needs_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(MovieBotError, match="MOVIEBOT_SECRET"):
        telegram_webhook(Settings())
