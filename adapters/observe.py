"""One event per command or button press, for logs and metrics: what ran, how long it
took, and how it ended. Never the user's text, never a token."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from core.errors import (
    EmbedderError,
    InvalidRequestError,
    StoreFullError,
    StoreUnavailableError,
)

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """How a command ended."""

    OK = "ok"
    REFUSED = "refused"
    """Bad input, or a request the core turned down: the user got the reason."""
    STORE_UNAVAILABLE = "store_unavailable"
    STORE_FULL = "store_full"
    EMBEDDER_UNAVAILABLE = "embedder_unavailable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CommandEvent:
    """A finished command: platform, command name, seconds taken and outcome."""

    platform: str
    command: str
    seconds: float
    outcome: Outcome


CommandObserver = Callable[[CommandEvent], None]


def ignore(event: CommandEvent) -> None:
    """The observer of a bot that reports nothing."""


@contextmanager
def observed(observer: CommandObserver, platform: str, command: str) -> Iterator[None]:
    """Time the block and report it to ``observer`` with its outcome; exceptions pass."""
    started = time.perf_counter()
    outcome = Outcome.ERROR
    try:
        yield
        outcome = Outcome.OK
    except InvalidRequestError:
        outcome = Outcome.REFUSED
        raise
    except StoreFullError:
        outcome = Outcome.STORE_FULL
        raise
    except StoreUnavailableError:
        outcome = Outcome.STORE_UNAVAILABLE
        raise
    except EmbedderError:
        outcome = Outcome.EMBEDDER_UNAVAILABLE
        raise
    finally:
        observer(CommandEvent(platform, command, time.perf_counter() - started, outcome))


def report_unexpected(error: BaseException, platform: str) -> str:
    """Log an exception nothing else handled, once, with its traceback, under a new error
    id; the id, for the user to quote."""
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s on %s", error_id, platform, exc_info=error)
    return error_id
