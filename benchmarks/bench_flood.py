"""Benchmark fairness: one user floods the bot, or Telegram refuses one chat, while a
crowd of others uses it normally.

``--flood``: one user sends ``--messages`` searches (plain text) as fast as possible
while ``--users`` simulated users (testing/crowd.py) search, pick, ask for /recommend
and /explore. ``--refused``: Telegram answers every message to one user's chat with
400 "chat not found", and that user sends ``--messages`` commands, one a second, while
the crowd runs. The bot is a `moviebot run` process of its own (testing/bot_process.py)
with real Redis, as in bench_load.py; ``--bot-code DIR`` runs it from another checkout,
to compare with the code before a change. The report (markdown) goes to stdout::

    python benchmarks/bench_flood.py --flood [--users 50] [--messages 150]
    python benchmarks/bench_flood.py --refused [--users 50] [--messages 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path

from adapters import texts
from adapters.i18n import words
from testing.benchmarking import DEFAULT_CATALOG, audited, local_bot, p50, p99, table, workspace
from testing.crowd import TITLES, Crowd, Exchange
from testing.telegram_api import Call, FakeTelegram

LONE_USER = 999
CROWD_FIRST_USER = 10_000
# The lone user's chat is settled when nothing came for this long: after a flood, and
# after a refusal (longer than the bot's longest pause between resends, 8 s).
QUIET_SECONDS = {"flood": 3.0, "refused": 10.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    scenario = parser.add_mutually_exclusive_group(required=True)
    scenario.add_argument("--flood", action="store_true")
    scenario.add_argument("--refused", action="store_true")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds the crowd arrives in")
    parser.add_argument("--catalog", default=DEFAULT_CATALOG)
    parser.add_argument("--bot-code", type=Path, help="run the bot from this checkout")
    args = parser.parse_args()
    args.messages = args.messages or (150 if args.flood else 3)

    environment = {"PYTHONPATH": str(args.bot_code.resolve())} if args.bot_code else {}
    with workspace(args.catalog, "bench-flood") as (scratch, index_dir, prefix):
        with local_bot(index_dir, prefix, scratch, **environment) as (fake, _):
            users = list(range(CROWD_FIRST_USER, CROWD_FIRST_USER + args.users))
            crowd = Crowd(fake, users, ramp=args.ramp)
            lone = flood(fake, args.messages) if args.flood else refused(fake, args.messages)
            window = asyncio.run(alongside(crowd, lone))
            lone_calls = [call for call in fake.calls() if _chat(call) == LONE_USER]
        audit = asyncio.run(audited(crowd, index_dir, prefix))
    print(report(args, crowd, window, lone_calls, audit.lost))


async def alongside(crowd: Crowd, lone: Awaitable[None]) -> tuple[float, float]:
    """Run the crowd and, from two seconds in, the lone user; the lone user's (start, end)."""

    async def lone_user() -> tuple[float, float]:
        await asyncio.sleep(2.0)
        started = time.time()
        await lone
        return started, time.time()

    window, _ = await asyncio.gather(lone_user(), crowd.run())
    return window


async def flood(fake: FakeTelegram, messages: int) -> None:
    """``messages`` searches from one user at once; returns when the bot has settled."""
    print(f"flooding with {messages} messages ...", file=sys.stderr)
    for n in range(messages):
        fake.type_text(LONE_USER, f"space adventure {n}")
    await settled(fake, QUIET_SECONDS["flood"])


async def refused(fake: FakeTelegram, messages: int) -> None:
    """``messages`` commands, one a second, from a user whose chat Telegram refuses."""
    fake.refuse_chat(LONE_USER)
    print(f"{messages} messages to a refused chat ...", file=sys.stderr)
    for _ in range(messages):
        fake.type_text(LONE_USER, "/help")
        await asyncio.sleep(1.0)
    await settled(fake, QUIET_SECONDS["refused"])


async def settled(fake: FakeTelegram, quiet: float) -> None:
    """Until ``quiet`` seconds pass with no request about the lone user's chat."""
    last, seen = time.monotonic(), 0
    while time.monotonic() - last < quiet:
        await asyncio.sleep(0.1)
        count = sum(1 for call in fake.calls() if _chat(call) == LONE_USER)
        if count != seen:
            last, seen = time.monotonic(), count


def _chat(call: Call) -> int | None:
    try:
        return int(call.params["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


def report(
    args: argparse.Namespace,
    crowd: Crowd,
    window: tuple[float, float],
    lone_calls: list[Call],
    lost: list[str],
) -> str:
    code = f", bot code {args.bot_code}" if args.bot_code else ""
    during = [e for e in crowd.exchanges if window[0] <= e.sent <= window[1]]
    lines = [
        f"## {'Flood' if args.flood else 'Refused chat'}: one user sends {args.messages}"
        f" messages while {args.users} others use the bot{code}",
        "",
        *table(
            "others' replies | p50 ms | p99 ms | max ms",
            [
                latency_cells("while the lone user was busy", during),
                latency_cells("the whole run", crowd.exchanges),
            ],
            left=1,
        ),
        "",
    ]
    outcomes = crowd.outcomes()
    lines += table(
        "others' exchanges | ok | try again | no answer | users finished | picks lost",
        [
            [
                len(crowd.exchanges),
                outcomes["ok"],
                outcomes["try again"],
                outcomes["no answer"],
                f"{len(crowd.finished)}/{args.users}",
                len(lost),
            ]
        ],
    )
    lines.append("")
    if args.flood:
        lines += flooder_table(args.messages, lone_calls)
    else:
        sends = [call for call in lone_calls if call.method == "sendMessage"]
        lines += table(
            "messages | sendMessage requests to the refused chat | requests per reply"
            " | seconds until settled",
            [
                [
                    args.messages,
                    len(sends),
                    f"{len(sends) / args.messages:.1f}",
                    f"{window[1] - window[0] - QUIET_SECONDS['refused']:.1f}",
                ]
            ],
        )
    return "\n".join(lines)


def flooder_table(messages: int, calls: list[Call]) -> list[str]:
    """What the flooder got: results, "slow down", notices of dropped messages."""
    replies = Counter(
        _kind(str(call.params.get("text", ""))) for call in calls if call.status == 200
    )
    answered = replies["results"] + replies["slow down"]
    return table(
        "flooder's messages | search results | slow down | dropped | notices of dropped"
        " | other replies",
        [
            [
                messages,
                replies["results"],
                replies["slow down"],
                messages - answered,
                replies["notice"],
                replies["other"],
            ]
        ],
    )


def _kind(text: str) -> str:
    if text.startswith(TITLES["search"]):
        return "results"
    if text == words("en").gettext(texts.SLOW_DOWN):
        return "slow down"
    if text == getattr(texts, "TOO_MANY_WAITING", None):
        return "notice"
    return "other"


def latency_cells(name: str, exchanges: list[Exchange]) -> list[object]:
    seconds = [e.seconds for e in exchanges if e.outcome == "ok" and e.seconds is not None]
    if not seconds:
        return [name, "", "", ""]
    return [name, *(f"{1000 * value:.0f}" for value in (p50(seconds), p99(seconds), max(seconds)))]


if __name__ == "__main__":
    main()
