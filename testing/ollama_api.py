"""A local HTTP server that speaks Ollama's ``POST /api/embed`` protocol.

Embeddings are a hashed bag of words: deterministic, similar for texts sharing words,
and deliberately not normalized so the client's normalization is exercised.

    server = FakeOllama()
    server.start()
    OllamaEmbedder(host=server.url).embed_query("die hard")
    server.calls  # [EmbedCall(model="nomic-embed-text", inputs=[...], truncate=True)]
    server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from testing.background_server import BackgroundServer

Embeddings = list[list[float]]


def embed_text(text: str, dim: int = 768) -> list[float]:
    """The fake model: each word adds ±1 to a coordinate picked by its hash."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()) or [""]:
        digest = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big")
        vector[digest % dim] += 1.0 if digest >> 63 else -1.0
    return vector


@dataclass
class EmbedCall:
    """One request the server received."""

    model: str
    inputs: list[str]
    truncate: bool | None


class FakeOllama(BackgroundServer):
    """Serves ``/api/embed`` on 127.0.0.1 from a background thread with its own loop."""

    def __init__(self, *, models: tuple[str, ...] = ("nomic-embed-text",), dim: int = 768):
        self.models = set(models)
        self.dim = dim
        self.calls: list[EmbedCall] = []
        super().__init__()
        self._fail = 0
        self._hang = 0
        self._hang_seconds = 0.0
        self._tamper: Callable[[Embeddings], Any] | None = None
        self._failing_until = 0.0
        self._hanging_until = 0.0
        self._release = asyncio.Event()

    # --- what a test can ask for -------------------------------------------------

    def fail_next(self, count: int) -> None:
        """Answer the next ``count`` requests with HTTP 500."""
        self._fail = count

    def hang_next(self, count: int, seconds: float = 30.0) -> None:
        """Sit on the next ``count`` requests for ``seconds`` (or until stop) first."""
        self._hang, self._hang_seconds = count, seconds

    def fail_for(self, seconds: float) -> None:
        """Answer every request with HTTP 500 for the next ``seconds``."""
        self._failing_until = time.monotonic() + seconds

    def hang_for(self, seconds: float) -> None:
        """Sit on every request that arrives in the next ``seconds`` until they are over."""
        self._hanging_until = time.monotonic() + seconds

    def tamper_next(self, transform: Callable[[Embeddings], Any]) -> None:
        """Pass the next response's embeddings through ``transform`` before sending."""
        self._tamper = transform

    # --- lifecycle -------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/embed", self._embed)

    def release_waiters(self) -> None:
        self._loop.call_soon_threadsafe(self._release.set)

    # --- the endpoint ----------------------------------------------------------------

    async def _embed(self, request: web.Request) -> web.Response:
        body = await request.json()
        model = body.get("model", "")
        raw_input = body.get("input", [])
        inputs = [raw_input] if isinstance(raw_input, str) else list(raw_input)
        self.calls.append(EmbedCall(model, inputs, body.get("truncate")))

        if time.monotonic() < self._hanging_until:
            await asyncio.sleep(self._hanging_until - time.monotonic())
        if self._hang:
            self._hang -= 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), self._hang_seconds)
        if self._fail or time.monotonic() < self._failing_until:
            self._fail = max(0, self._fail - 1)
            return web.json_response({"error": "injected server failure"}, status=500)
        if model not in self.models:
            error = f'model "{model}" not found, try pulling it first'
            return web.json_response({"error": error}, status=404)

        embeddings = [embed_text(text, self.dim) for text in inputs]
        if self._tamper is not None:
            embeddings, self._tamper = self._tamper(embeddings), None
        return web.json_response({"model": model, "embeddings": embeddings})
