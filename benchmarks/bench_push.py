"""Benchmark the weekly push: planning for 100,000 subscribers, and the send rate.

Planning: ``USERS`` synthetic users are written to the local Redis (127.0.0.1:6379)
under a key prefix of the benchmark's own (deleted at the end), each subscribed at the
same slot, most with a taste vector and picks; then ``WeeklyPush.plan`` runs over all
of them against a random 5,000-movie 384-d index, as ``moviebot run`` would at the slot.
The walk of the subscriber set alone is timed too.

Sending: the real notifiers send to the local stand-ins of the Telegram Bot API and of
Discord (testing/), at the push's configured rates, with python-telegram-bot's and
discord.py's own rate limiting on. Run from the repository root; the report (markdown)
goes to stdout, progress to stderr::

    python benchmarks/bench_push.py [--users 100000] [--sends 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import discord
import numpy as np
from redis.asyncio import Redis

from adapters.buttons import ButtonCodec
from adapters.discord.bot import rest_client
from adapters.discord.notifier import DiscordNotifier
from adapters.i18n import LANGUAGES
from adapters.telegram.bot import sending_bot
from adapters.telegram.notifier import TelegramNotifier
from core.index import MovieIndex
from core.languages import Languages
from core.models import Subscription, TasteProfile, UndoAction, UndoStep, UserRef
from core.ports import Notifier
from core.push import PushSettings, WeeklyPush
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from core.stores.redis import RedisProfileStore
from testing.benchmarking import CATALOG_SIZE, DIM, random_index, redis_cpu_seconds, table
from testing.discord_api import TOKEN as DISCORD_TOKEN
from testing.discord_api import FakeDiscord
from testing.doubles import FixedEmbedder
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.telegram_api import FakeTelegram

PICKS_PER_USER = 5
COLD_SHARE = 0.1  # users subscribed before their first pick
SLOT = Subscription(weekday=4, hour=18)
AT_THE_SLOT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
TARGET_PLAN_SECONDS = 60.0
WRITERS = 200
SECRET = b"benchmark button secret, 32 b!!!"


@dataclass(frozen=True, slots=True)
class PlanResult:
    users: int
    planned: int
    walk_seconds: float
    plan_seconds: float
    plan_cpu_seconds: float
    redis_cpu_seconds: float
    peak_rss_mib: float


@dataclass(frozen=True, slots=True)
class SendResult:
    platform: str
    configured: float
    sent: int
    seconds: float
    bytes_per_subscriber: float


def synthetic_profile(index: MovieIndex, rng: np.random.Generator) -> TasteProfile:
    """A profile after ``PICKS_PER_USER`` picks, with the undo history the bot keeps."""
    picked = [int(i) for i in rng.choice([m.movie_id for m in index.movies], PICKS_PER_USER)]
    vector = np.mean([index.vector(i) for i in picked], axis=0).astype(np.float32)
    vector /= np.linalg.norm(vector)
    undo = tuple(
        UndoStep(UndoAction.PICK, movie_id, vector if n else None, None)
        for n, movie_id in enumerate(picked)
    )
    return TasteProfile(index.fingerprint, vector, tuple(picked), (), 1_700_000_000.0, undo)


async def write_users(store: RedisProfileStore, index: MovieIndex, users: list[UserRef]) -> None:
    """Subscribe every user; all but ``COLD_SHARE`` of them get a synthetic profile."""
    rng = np.random.default_rng(0)
    queue = iter(enumerate(users))

    async def writer() -> None:
        for n, user in queue:
            await store.set_subscription(user, SLOT)
            if n % int(1 / COLD_SHARE):
                profile = synthetic_profile(index, rng)
                await store.update(user, lambda _, profile=profile: profile)
            if n and n % 20_000 == 0:
                print(f"  {n:,} users written", file=sys.stderr)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))


async def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of an awaited action."""
    wall, cpu = time.perf_counter(), time.process_time()
    await action()  # type: ignore[misc]
    return time.perf_counter() - wall, time.process_time() - cpu


async def planning(users_count: int, index: MovieIndex) -> PlanResult:
    prefix = f"bench-push-{uuid.uuid4().hex[:8]}"
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    client = Redis.from_url(LOCAL_REDIS)
    try:
        users = [UserRef("telegram", str(10_000_000 + n)) for n in range(users_count)]
        print(f"writing {users_count:,} subscribers ...", file=sys.stderr)
        await write_users(store, index, users)
        recommender = Recommender(index, FixedEmbedder(index.manifest.embedder, index.dim), store)
        push = WeeklyPush(recommender, store, store.push_ledger(), [], PushSettings())
        planned = 0

        async def walk() -> None:
            async for _ in store.subscribers():
                pass

        async def plan() -> None:
            nonlocal planned
            async for batch in push.plan(AT_THE_SLOT, platforms=["telegram"]):
                planned += len(batch)

        print("walking the subscribers ...", file=sys.stderr)
        walk_seconds, _ = await timed(walk)
        print("planning ...", file=sys.stderr)
        before = await redis_cpu_seconds(client)
        plan_seconds, plan_cpu = await timed(plan)
        redis_seconds = await redis_cpu_seconds(client) - before
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return PlanResult(
            users_count, planned, walk_seconds, plan_seconds, plan_cpu, redis_seconds, peak
        )
    finally:
        await store.close()
        await client.aclose()
        await delete_prefix(prefix)


async def send_rate(
    platform: str, notifier: Notifier, index: MovieIndex, sends: int
) -> tuple[float, float]:
    """Seconds a push to ``sends`` subscribers took through ``notifier``, and the Redis
    memory of a subscriber once pushed (subscription, its share of the subscriber set,
    push history)."""
    prefix = f"bench-push-{uuid.uuid4().hex[:8]}"
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    client = Redis.from_url(LOCAL_REDIS)
    try:
        for n in range(sends):
            await store.set_subscription(UserRef(platform, str(20_000_000 + n)), SLOT)
        recommender = Recommender(index, FixedEmbedder(index.manifest.embedder, index.dim), store)
        push = WeeklyPush(recommender, store, store.push_ledger(), [notifier], PushSettings())
        started = time.perf_counter()
        report = await push.run(AT_THE_SLOT)
        seconds = time.perf_counter() - started
        if report.sent != sends:
            raise RuntimeError(f"{platform}: sent {report.sent} of {sends}: {report}")
        users = [UserRef(platform, str(20_000_000 + n)) for n in range(sends)]
        total = await client.memory_usage(store.keys.subscribers, samples=0) or 0
        for user in users:
            for key in (store.keys.subscription(user), store.keys.pushes(user)):
                total += await client.memory_usage(key, samples=0) or 0
        return seconds, total / sends
    finally:
        await store.close()
        await client.aclose()
        await delete_prefix(prefix)


async def sending(index: MovieIndex, sends: int) -> list[SendResult]:
    codec = ButtonCodec(SECRET, index.fingerprint)
    languages = Languages(MemoryProfileStore(), LANGUAGES)
    rates = PushSettings().per_second
    results = []
    with FakeTelegram() as telegram:
        print(f"sending {sends} pushes to the Telegram stand-in ...", file=sys.stderr)
        async with sending_bot("123456:BENCH-token", f"{telegram.url}/bot") as bot:
            measured = await send_rate(
                "telegram", TelegramNotifier(bot, codec, languages), index, sends
            )
        results.append(SendResult("telegram", rates["telegram"], sends, *measured))
    with FakeDiscord() as discord_api:
        print(f"sending {sends} pushes to the Discord stand-in ...", file=sys.stderr)
        discord.http.Route.BASE = discord_api.api_base
        async with rest_client(DISCORD_TOKEN) as client:
            measured = await send_rate(
                "discord", DiscordNotifier(client, codec, languages), index, sends
            )
        results.append(SendResult("discord", rates["discord"], sends, *measured))
    return results


def report(plan: PlanResult, sends: list[SendResult], load_before: float) -> str:
    per_user_ms = plan.plan_seconds / plan.users * 1000
    verdict = "met" if plan.plan_seconds <= TARGET_PLAN_SECONDS else "MISSED"
    lines = [
        f"Machine: {os.cpu_count()} cores; 1-minute load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after. Index: {CATALOG_SIZE:,} random {DIM}-d movies "
        f"(exact search); {PICKS_PER_USER} picks per user, {COLD_SHARE:.0%} without picks.",
        "",
        *table(
            "subscribers | planned | walk s | plan s | plan CPU s | Redis CPU s | ms/user"
            " | peak RSS MiB",
            [
                [
                    f"{plan.users:,}",
                    f"{plan.planned:,}",
                    f"{plan.walk_seconds:.1f}",
                    f"{plan.plan_seconds:.1f}",
                    f"{plan.plan_cpu_seconds:.1f}",
                    f"{plan.redis_cpu_seconds:.1f}",
                    f"{per_user_ms:.3f}",
                    f"{plan.peak_rss_mib:,.0f}",
                ]
            ],
        ),
        "",
        f"Target: planning {plan.users:,} users <= {TARGET_PLAN_SECONDS:.0f} s: {verdict}. "
        f"At the same rate 1M users plan in {per_user_ms * 1e6 / 1000 / 60:.1f} min.",
        "",
        *table(
            "platform | configured sends/s | sent | seconds | measured sends/s | 1M users take"
            " | Redis bytes per subscriber | 1M subscribers",
            [send_cells(result) for result in sends],
            left=1,
        ),
    ]
    return "\n".join(lines)


def send_cells(result: SendResult) -> list[object]:
    """A send run as a row of the table."""
    size = result.bytes_per_subscriber
    return [
        result.platform,
        f"{result.configured:.0f}",
        result.sent,
        f"{result.seconds:.1f}",
        f"{result.sent / result.seconds:.1f}",
        f"{1e6 / result.configured / 3600:.1f} h",
        f"{size:,.0f}",
        f"{size * 1e6 / 2**20:,.0f} MiB",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--sends", type=int, default=300)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    index = random_index(CATALOG_SIZE, DIM)
    plan = await planning(args.users, index)
    sends = await sending(index, args.sends)
    print(report(plan, sends, load_before))


if __name__ == "__main__":
    asyncio.run(main())
