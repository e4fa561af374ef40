"""Secrets never reach the log."""

from __future__ import annotations

import logging
import sys

import pytest

from adapters.observe import report_unexpected
from bot.config import Settings
from bot.logs import MASK, SecretsFilter, configure_logging

DISCORD_TOKEN = "MTA0.Gx7_secret.part-three"
TELEGRAM_TOKEN = "123456:AAH-telegram-secret"


def formatted(record: logging.LogRecord) -> str:
    SecretsFilter([DISCORD_TOKEN, TELEGRAM_TOKEN, ""]).filter(record)
    return logging.Formatter("%(message)s").format(record)


def test_a_token_in_the_message_or_its_arguments_is_masked() -> None:
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "GET https://api.telegram.org/bot%s/getMe with %s",
        (TELEGRAM_TOKEN, DISCORD_TOKEN),
        None,
    )
    text = formatted(record)
    assert TELEGRAM_TOKEN not in text and DISCORD_TOKEN not in text
    assert text == f"GET https://api.telegram.org/bot{MASK}/getMe with {MASK}"


def test_a_token_in_a_traceback_is_masked() -> None:
    try:
        raise ConnectionError(f"could not reach /bot{TELEGRAM_TOKEN}/getUpdates")
    except ConnectionError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = formatted(record)
    assert "ConnectionError" in text
    assert TELEGRAM_TOKEN not in text and MASK in text


def test_the_running_bot_masks_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_DISCORD_TOKEN", DISCORD_TOKEN)
    root = logging.getLogger()
    handlers = list(root.handlers)
    configure_logging(Settings())
    try:
        assert all(
            any(isinstance(f, SecretsFilter) for f in handler.filters) for handler in root.handlers
        )
        record = logging.LogRecord(
            "x", logging.INFO, __file__, 1, "token %s", (DISCORD_TOKEN,), None
        )
        for handler in root.handlers:
            for log_filter in handler.filters:
                log_filter.filter(record)
        assert record.getMessage() == f"token {MASK}"
    finally:
        for handler in root.handlers:
            handler.filters = [f for f in handler.filters if not isinstance(f, SecretsFilter)]
        root.handlers[:] = handlers


def test_an_unexpected_error_is_logged_once_under_its_id_with_the_token_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    caplog.handler.addFilter(SecretsFilter([TELEGRAM_TOKEN]))
    try:
        raise RuntimeError(f"a bug next to /bot{TELEGRAM_TOKEN}/sendMessage")
    except RuntimeError as error:
        error_id = report_unexpected(error, "telegram")
    (record,) = caplog.records
    assert error_id in record.getMessage() and "telegram" in record.getMessage()
    assert "RuntimeError: a bug next to" in caplog.text and MASK in caplog.text
    assert TELEGRAM_TOKEN not in caplog.text
