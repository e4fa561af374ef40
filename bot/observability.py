"""What the running bot tells its operators: Prometheus metrics, liveness and readiness
over HTTP, and one structured log event per command."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from adapters.observe import CommandEvent, Outcome
from core.models import Notice, Subscription, TasteProfile, UserRef
from core.ports import ProfileChange, ProfileStore, StoredProfile
from core.push import PushReport

log = logging.getLogger("moviebot.commands")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The bot's Prometheus metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "moviebot_commands",
            "Commands and button presses, by platform, command and outcome",
            ["platform", "command", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "moviebot_command_seconds",
            "Time from a command's arrival to its answer",
            ["platform", "command"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "moviebot_stage_seconds",
            "Time spent embedding a query, searching the index, or in the profile store",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.picks = Counter(
            "moviebot_picks", "Picks that changed a taste", ["platform"], registry=self.registry
        )
        self.pushes = Counter(
            "moviebot_pushes", "Weekly pushes, by outcome", ["outcome"], registry=self.registry
        )
        self.store_errors = Counter(
            "moviebot_store_errors",
            "Commands that found Redis unreachable or too slow",
            registry=self.registry,
        )
        self.store_full = Counter(
            "moviebot_store_full",
            "Commands that found Redis at its memory limit (nothing was written)",
            registry=self.registry,
        )

    def command(self, event: CommandEvent) -> None:
        """Count and log a finished command (the CommandObserver of the chat adapters)."""
        self.commands.labels(event.platform, event.command, event.outcome.value).inc()
        self.command_seconds.labels(event.platform, event.command).observe(event.seconds)
        if event.outcome is Outcome.STORE_UNAVAILABLE:
            self.store_errors.inc()
        if event.outcome is Outcome.STORE_FULL:
            self.store_full.inc()
        record = {
            "event": "command",
            "platform": event.platform,
            "command": event.command,
            "latency_ms": round(event.seconds * 1000, 1),
            "outcome": event.outcome.value,
        }
        log.info(json.dumps(record))

    def timed(self, stage: str, seconds: float) -> None:
        """Telemetry of the core: time in a stage."""
        self.stage_seconds.labels(stage).observe(seconds)

    def picked(self, platform: str) -> None:
        """Telemetry of the core: a pick that changed a taste."""
        self.picks.labels(platform).inc()

    def pushed(self, report: PushReport) -> None:
        """Count the outcomes of a weekly push run."""
        for outcome in ("sent", "gone", "failed"):
            self.pushes.labels(outcome).inc(getattr(report, outcome))

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)


class TimedStore:
    """A ProfileStore that reports the time of every call to the store it wraps."""

    def __init__(self, store: ProfileStore, metrics: Metrics) -> None:
        self._store = store
        self._seconds = metrics.stage_seconds.labels("store")

    async def load(self, user: UserRef) -> TasteProfile | None:
        with self._seconds.time():
            return await self._store.load(user)

    async def load_many(self, users: Sequence[UserRef]) -> list[TasteProfile | None]:
        with self._seconds.time():
            return await self._store.load_many(users)

    async def update(
        self, user: UserRef, change: ProfileChange, idempotency_key: str | None = None
    ) -> StoredProfile:
        with self._seconds.time():
            return await self._store.update(user, change, idempotency_key)

    async def forget(self, user: UserRef) -> None:
        with self._seconds.time():
            await self._store.forget(user)

    async def forget_inactive(self, before: float) -> int:
        with self._seconds.time():
            return await self._store.forget_inactive(before)

    async def subscription(self, user: UserRef) -> Subscription | None:
        with self._seconds.time():
            return await self._store.subscription(user)

    async def set_subscription(self, user: UserRef, subscription: Subscription | None) -> None:
        with self._seconds.time():
            await self._store.set_subscription(user, subscription)

    def subscribers(self) -> AsyncIterator[tuple[UserRef, Subscription]]:
        return self._store.subscribers()

    async def language(self, user: UserRef) -> str | None:
        with self._seconds.time():
            return await self._store.language(user)

    async def set_language(self, user: UserRef, language: str | None) -> None:
        with self._seconds.time():
            await self._store.set_language(user, language)

    async def pick_counts(self, movie_ids: Sequence[int]) -> tuple[int, ...]:
        with self._seconds.time():
            return await self._store.pick_counts(movie_ids)

    async def co_picks(self, movie_ids: Sequence[int]) -> list[dict[int, int]]:
        with self._seconds.time():
            return await self._store.co_picks(movie_ids)

    async def seed_community(self, source: str, histories: Sequence[Sequence[int]]) -> bool:
        with self._seconds.time():
            return await self._store.seed_community(source, histories)

    async def add_notice(self, user: UserRef, notice: Notice) -> None:
        with self._seconds.time():
            await self._store.add_notice(user, notice)

    async def take_notices(self, user: UserRef) -> frozenset[Notice]:
        with self._seconds.time():
            return await self._store.take_notices(user)


Check = Callable[[], Awaitable[str | None]]
"""Whether one part the bot needs can serve: ``None``, or a short generic problem."""


class Readiness:
    """Whether every part the bot needs answers, checked at most once per ``ttl`` seconds
    however often ``/readyz`` is asked. The reason names the part, never a host, a port or
    an error text (those go to the log)."""

    def __init__(
        self,
        checks: Sequence[Check],
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = checks
        self._ttl = ttl
        self._clock = clock
        self._checked_at: float | None = None
        self._problem: str | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> str | None:
        """``None`` when ready, else the first part's problem."""
        async with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._ttl:
                self._problem = await self._first_problem()
                self._checked_at = now
            return self._problem

    async def _first_problem(self) -> str | None:
        for check in self._checks:
            if (problem := await check()) is not None:
                return problem
        return None


class Connections:
    """Whether each chat platform is connected: not ready until all ``count`` of them
    have started and added their check."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._checks: list[Check] = []

    def extend(self, checks: Iterable[Check]) -> None:
        """Add the checks of platforms that have started."""
        self._checks.extend(checks)

    async def __call__(self) -> str | None:
        """``None`` when every platform is connected, else the first one's problem."""
        if len(self._checks) < self._count:
            return "chat platforms starting"
        for check in self._checks:
            if (problem := await check()) is not None:
                return problem
        return None


@asynccontextmanager
async def health_server(
    listen: str, port: int, metrics: Metrics, ready: Callable[[], Awaitable[str | None]]
) -> AsyncIterator[None]:
    """Serve ``/metrics``, ``/healthz`` (the process answers) and ``/readyz`` (``ready``
    returns ``None``; else its reason, with status 503) on ``listen``:``port`` while the
    block runs."""

    async def metrics_page(request: web.Request) -> web.Response:
        body = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def alive(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive", "time": time.time()})

    async def readiness(request: web.Request) -> web.Response:
        problem = await ready()
        if problem is None:
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "not ready", "reason": problem}, status=503)

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", alive)
    app.router.add_get("/readyz", readiness)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    try:
        yield
    finally:
        await runner.cleanup()
