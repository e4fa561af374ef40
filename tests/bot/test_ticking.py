"""The ticker that moves movie nights on: it runs its coroutine again and again, lives
through failures, and stops with its block."""

from __future__ import annotations

import asyncio

import pytest

from bot.ticking import ticking
from core.errors import StoreUnavailableError


async def test_a_tick_runs_again_after_failures_and_stops_with_the_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes: list[BaseException | None] = [RuntimeError("boom"), StoreUnavailableError("down")]
    calls: list[int] = []
    third = asyncio.Event()

    async def tick() -> None:
        calls.append(len(calls))
        if outcomes:
            outcome = outcomes.pop(0)
            assert outcome is not None
            raise outcome
        third.set()

    async with ticking(tick, 0.001, "movie nights"):
        await asyncio.wait_for(third.wait(), 10)
    stopped_at = len(calls)
    await asyncio.sleep(0.05)

    assert len(calls) == stopped_at >= 3
    assert "movie nights failed" in caplog.text and "RuntimeError: boom" in caplog.text
    assert "movie nights skipped: down" in caplog.text
