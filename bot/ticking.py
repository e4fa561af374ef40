"""A coroutine run every few seconds while a block runs: what moves movie nights on when
their time comes (see :meth:`core.movienight.MovieNights.advance_due`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from core.errors import StoreUnavailableError

log = logging.getLogger(__name__)


@asynccontextmanager
async def ticking(
    tick: Callable[[], Awaitable[None]], every: float, name: str
) -> AsyncIterator[None]:
    """Run ``tick`` every ``every`` seconds until the block ends; a tick that fails is
    logged, and the next one runs all the same."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await tick()
            except StoreUnavailableError as error:
                log.warning("%s skipped: %s", name, error)
            except Exception:
                log.exception("%s failed", name)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
