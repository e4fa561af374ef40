"""Simulated Telegram users for load and fault runs, talking to the bot through the Bot
API stand-in.

Each user searches, picks the five movies found, asks for recommendations, then
explores; they wait for each answer (no polling: the stand-in tells the crowd about
every request it answers) and act again, as a person would, after a "try again" or
after ``patience`` seconds of silence. Users arrive evenly over ``ramp`` seconds and
think before each step (``think`` seconds on average, half to one and a half times
that); once the first arrivals are under way the crowd sends a steady mix of every
step, ``rate`` updates per second.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from adapters import texts
from adapters.i18n import words
from testing.telegram_api import Call, FakeTelegram

PICKS = 5
JOURNEY = ("search", *["pick"] * PICKS, "recommend", "explore")
TITLES = {"search": "<b>Search results", "recommend": "<b>For you", "explore": "<b>Exploring"}
TRY_AGAIN = (words("en").gettext(texts.UNAVAILABLE), words("en").gettext(texts.SLOW_DOWN))
ACKNOWLEDGED = ("✓ picked", "already picked")
QUERIES = (
    "space adventure",
    "heist with a twist",
    "romantic comedy in new york",
    "animated family film",
    "war drama",
    "haunted house horror",
    "detective mystery",
    "superhero team",
    "high school coming of age",
    "dinosaurs",
    "survival at sea",
    "courtroom drama",
)


@dataclass(frozen=True)
class Exchange:
    """One update a user sent and what came of it (times in seconds since the epoch)."""

    user: int
    step: str
    sent: float
    answered: float | None
    outcome: str  # "ok", "try again", "error" or "no answer"

    @property
    def seconds(self) -> float | None:
        return None if self.answered is None else self.answered - self.sent


@dataclass
class _Waiter:
    step: str
    future: asyncio.Future[Call]


@dataclass
class Crowd:
    """Users ``users`` of ``fake``, arriving evenly over ``ramp`` seconds."""

    fake: FakeTelegram
    users: list[int]
    ramp: float
    think: float = 2.0
    patience: float = 30.0
    pause: float = 1.0
    exchanges: list[Exchange] = field(default_factory=list)
    acknowledged: dict[int, list[int]] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)
    _waiters: dict[Any, _Waiter] = field(default_factory=dict)
    _random: random.Random = field(default_factory=lambda: random.Random(0))

    @property
    def rate(self) -> float:
        """Updates per second while users keep arriving (after the first ``think``s)."""
        return len(self.users) * len(JOURNEY) / self.ramp

    async def run(self) -> None:
        """Every user's journey, concurrently; returns when all have finished."""
        loop = asyncio.get_running_loop()

        def listener(call: Call) -> None:
            loop.call_soon_threadsafe(self._heard, call)

        self.fake.listen(listener)
        gap = self.ramp / len(self.users)
        try:
            await asyncio.gather(*(self._journey(u, n * gap) for n, u in enumerate(self.users)))
        finally:
            self.fake.unlisten(listener)

    def outcomes(self) -> Counter[str]:
        """How many exchanges ended each way."""
        return Counter(exchange.outcome for exchange in self.exchanges)

    def picks(self) -> Counter[int]:
        """How often each movie's pick was acknowledged, over all users."""
        return Counter(movie for picked in self.acknowledged.values() for movie in picked)

    # --- one user ---------------------------------------------------------------------

    async def _journey(self, user: int, arrival: float) -> None:
        await asyncio.sleep(arrival)
        results = await self._until_ok(user, "search", lambda: self._type(user, _query(user)))
        buttons = [row[0]["callback_data"] for row in results["reply_markup"]["inline_keyboard"]]
        self.acknowledged[user] = []
        for data in buttons[:PICKS]:
            await self._until_ok(user, "pick", lambda d=data: self._press(user, results, d))
            self.acknowledged[user].append(_movie_id(data))
        await self._until_ok(user, "recommend", lambda: self._type(user, "/recommend"))
        await self._until_ok(user, "explore", lambda: self._type(user, "/explore"))
        self.finished.add(user)

    async def _until_ok(self, user: int, step: str, send: Any) -> dict[str, Any]:
        """Send (again and again) until the answer is the one wanted; return the message
        answered (for a search) or the callback answer's parameters."""
        await asyncio.sleep(self.think * self._random.uniform(0.5, 1.5))
        while True:
            key, future = send()
            sent = time.time()
            try:
                call = await asyncio.wait_for(asyncio.shield(future), self.patience)
            except TimeoutError:
                self._waiters.pop(key, None)
                self.exchanges.append(Exchange(user, step, sent, None, "no answer"))
                continue
            text = str(call.params.get("text", ""))
            outcome = _outcome(step, text)
            self.exchanges.append(Exchange(user, step, sent, call.at, outcome))
            if outcome == "ok":
                return self._message(user, text) if step == "search" else call.params
            await asyncio.sleep(self.pause)

    def _type(self, user: int, text: str) -> tuple[Any, asyncio.Future[Call]]:
        step = "search" if text.startswith("/search") else text.lstrip("/")
        return self._wait_for(("chat", user), step, lambda: self.fake.type_text(user, text))

    def _press(
        self, user: int, message: dict[str, Any], data: str
    ) -> tuple[Any, asyncio.Future[Call]]:
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        query_id = self.fake.press(user, message, data)
        self._waiters[("query", query_id)] = _Waiter("pick", future)
        return ("query", query_id), future

    def _wait_for(self, key: Any, step: str, send: Any) -> tuple[Any, asyncio.Future[Call]]:
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        self._waiters[key] = _Waiter(step, future)
        send()
        return key, future

    def _message(self, user: int, text: str) -> dict[str, Any]:
        """The message the bot sent ``user`` with ``text`` (to press its buttons)."""
        return next(m for m in reversed(self.fake.messages(user)) if m["text"] == text)

    # --- what the bot answered ------------------------------------------------------

    def _heard(self, call: Call) -> None:
        """Hand an answer of the bot to the user waiting for it. A late list for an
        earlier step (its attempt given up on) and button marks are ignored."""
        if call.status != 200:
            return
        if call.method == "sendMessage":
            key: Any = ("chat", int(call.params["chat_id"]))
            text = str(call.params.get("text", ""))
            waiter = self._waiters.get(key)
            if waiter is None or _late_list(waiter.step, text):
                return
        elif call.method == "answerCallbackQuery":
            key = ("query", call.params["callback_query_id"])
        else:
            return
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.future.done():
            waiter.future.set_result(call)


def _outcome(step: str, text: str) -> str:
    if _wanted(step, text):
        return "ok"
    return "try again" if text in TRY_AGAIN else "error"


def _late_list(step: str, text: str) -> bool:
    """Whether ``text`` is the list another step than ``step`` asked for."""
    return any(text.startswith(title) for other, title in TITLES.items() if other != step)


def _wanted(step: str, text: str) -> bool:
    if step == "pick":
        return text.startswith(ACKNOWLEDGED)
    return text.startswith(TITLES[step])


def _query(user: int) -> str:
    return "/search " + QUERIES[user % len(QUERIES)]


def _movie_id(data: str) -> int:
    """The movie id of a pick button's payload (``1p<base 36>.…``)."""
    return int(data[2 : data.index(".")], 36)
