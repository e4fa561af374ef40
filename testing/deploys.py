"""A deploy in the middle of the weekly push, end to end.

Due subscribers, half on Telegram and half on Discord, wait in the local Redis. A first
``moviebot run`` starts the push and is stopped part way, by SIGTERM (a deploy) or by
SIGKILL (a crash); then a second one is started on the same Redis and sends the rest.
What every user received is read from the stand-ins of the two platforms, which answer
each sent message ``send_latency`` seconds after storing it, so that sends are in flight
when the first process stops. Used by tests/stress/test_deploys.py and
benchmarks/bench_deploys.py.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from redis.asyncio import Redis

from core.models import Subscription, UserRef
from core.stores.redis import RedisProfileStore
from testing.bot_process import BotProcess
from testing.discord_api import FakeDiscord
from testing.local_redis import LOCAL_REDIS
from testing.telegram_api import FakeTelegram

Stop = Literal["sigterm", "sigkill"]
TELEGRAM_IDS = 10_000
DISCORD_IDS = 1_190_000_000_000_000_000
LEASE_SECONDS = 3
FINISH_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class DeployRun:
    """What each user received, and the first process's state when it stopped."""

    stop: Stop
    users: int
    sent_at_stop: int
    """Pushes the stand-ins had stored when the first process was stopped."""
    unsettled_at_stop: int
    """Claims in Redis with no settle, right after the first process was gone."""
    exit_seconds: float | None
    """SIGTERM to exit of the first process."""
    received: dict[str, Counter[int]]
    """Per platform: user id -> pushes that user received."""

    def missed(self, platform: str) -> int:
        """Users of ``platform`` who received nothing."""
        return self.users // 2 - len(self.received[platform])

    def duplicates(self, platform: str) -> int:
        """Pushes beyond the first, over all users of ``platform``."""
        return sum(count - 1 for count in self.received[platform].values())


async def deploy_during_push(
    stop: Stop, users: int, index_dir: Path, prefix: str, workdir: Path, latency: float = 0.2
) -> DeployRun:
    """Stop a pushing ``moviebot run`` by ``stop`` once a quarter of ``users`` have their
    push, then let a second one finish."""
    await subscribe_due(users, prefix)
    settings = {
        "MOVIEBOT_INDEX_DIR": str(index_dir),
        "MOVIEBOT_REDIS_URL": LOCAL_REDIS,
        "MOVIEBOT_REDIS_PREFIX": prefix,
        "MOVIEBOT_PUSH_ENABLED": "true",
        "MOVIEBOT_PUSH_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    with FakeTelegram() as telegram, FakeDiscord() as discord:
        telegram.send_latency = discord.send_latency = latency
        first = BotProcess(telegram.url, workdir / "first.log", discord, **settings)
        first.start()
        await _until(lambda: _received(telegram, discord, users).total() >= users // 4)
        sent_at_stop = _received(telegram, discord, users).total()
        first.stop() if stop == "sigterm" else first.kill()
        unsettled = await unsettled_claims(prefix)
        await asyncio.sleep(LEASE_SECONDS)  # a killed process's lease runs out
        with BotProcess(telegram.url, workdir / "second.log", discord, **settings):
            await _until(lambda: _received(telegram, discord, users).everyone())
        received = _received(telegram, discord, users)
    return DeployRun(stop, users, sent_at_stop, unsettled, first.exit_seconds, received.by_platform)


async def subscribe_due(users: int, prefix: str) -> None:
    """Subscribe ``users`` users, half per platform, at the current UTC hour."""
    now = datetime.now(UTC)
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    try:
        for user in _users(users):
            await store.set_subscription(user, Subscription(now.weekday(), now.hour))
    finally:
        await store.close()


async def unsettled_claims(prefix: str) -> int:
    """Weeks claimed and never settled, over every user under ``prefix``."""
    client = Redis.from_url(LOCAL_REDIS)
    try:
        count = 0
        async for key in client.scan_iter(match=f"{prefix}:*:pushes", count=1_000):
            count += sum(value.startswith(b"@") for value in await client.hvals(key))
        return count
    finally:
        await client.aclose()


def _users(users: int) -> list[UserRef]:
    half = users // 2
    telegram = [UserRef("telegram", str(TELEGRAM_IDS + n)) for n in range(half)]
    return telegram + [UserRef("discord", str(DISCORD_IDS + n)) for n in range(half)]


@dataclass(frozen=True, slots=True)
class _Received:
    by_platform: dict[str, Counter[int]]
    users: int

    def total(self) -> int:
        return sum(sum(counts.values()) for counts in self.by_platform.values())

    def everyone(self) -> bool:
        return sum(len(counts) for counts in self.by_platform.values()) == self.users // 2 * 2


def _received(telegram: FakeTelegram, discord: FakeDiscord, users: int) -> _Received:
    half = users // 2
    on_telegram = Counter(
        {n: len(telegram.messages(n)) for n in range(TELEGRAM_IDS, TELEGRAM_IDS + half)}
    )
    on_discord = Counter({n: len(discord.dms(n)) for n in range(DISCORD_IDS, DISCORD_IDS + half)})
    by_platform = {"telegram": +on_telegram, "discord": +on_discord}
    return _Received(by_platform, users)


async def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` every quarter second (reading every user's messages costs)."""
    deadline = time.monotonic() + FINISH_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the push did not get that far")
        await asyncio.sleep(0.25)
