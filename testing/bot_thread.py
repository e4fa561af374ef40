"""A chat bot serving from an event loop of its own thread, so that synchronous code (the
hostile-input property tests) can drive it and read its store."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import numpy as np

from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES
from adapters.rate_limit import UserRateLimit
from adapters.services import ChatServices
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.languages import Languages
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.subscriptions import Subscriptions
from testing.waiting import wait_until_sync

T = TypeVar("T")
SECRET = b"hostile input secret, 32 bytes!!"


def unlimited_services(
    index: MovieIndex, embedder: OnnxEmbedder, store: MemoryProfileStore
) -> ChatServices:
    """The chat services on ``store``, with no limit per user to get in the way."""
    recommender = Recommender(index, embedder, store, rng=np.random.default_rng(0))
    codec = ButtonCodec(SECRET, index.fingerprint)
    unlimited = UserRateLimit(limit=10**9)
    languages = Languages(store, LANGUAGES)
    return ChatServices(
        recommender, Subscriptions(store), codec, unlimited, unlimited, languages=languages
    )


class BotThread:
    """Runs ``serving()`` in a thread's event loop while the ``with`` block lasts."""

    def __init__(
        self, serving: Callable[[], AbstractAsyncContextManager[Any]], store: MemoryProfileStore
    ) -> None:
        self.store = store
        self._serving = serving
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` in the bot's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def __enter__(self) -> BotThread:
        self._thread.start()
        wait_until_sync(lambda: self._stop is not None, 60)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _run(self) -> None:
        async with self._serving():
            self._stop = asyncio.Event()
            await self._stop.wait()
