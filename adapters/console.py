"""The terminal chat of the original prototype, behind ``moviebot demo``.

A line is parsed, answered by the Recommender and rendered. Free text shows the
prototype's grid: search results beside the taste columns, then asks for a pick.
What it shows is built in ``console_render``. The chat speaks the language of the
terminal's locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``) until
``/language`` chooses another.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from adapters import i18n, texts
from adapters.console_render import (
    RECOMMENDATIONS,
    render_grid,
    render_help,
    render_problem,
    render_profile,
    render_recommendations,
    render_result,
    render_welcome,
)
from adapters.i18n import N_
from adapters.texts import UsageError, shorten
from core.errors import InvalidRequestError, MovieBotError
from core.languages import Languages
from core.models import Movie, Recommendation, UserRef
from core.recommender import Recommender

PROMPT = "moviebot> "
PICK_PROMPT = N_("Pick a movie number (Enter to skip): ")
FORGET_PROMPT = N_("Forget all your picks and your taste? [y/N]: ")
YES_WORDS = N_("y yes")
"""What confirms the question of /forget, words apart (English works in any language)."""
EXIT_WORDS = frozenset({"exit", "quit", "/exit", "/quit"})
LIST_LENGTH = 5
GRID_STRATEGIES = ("angle", "bucket")
GOODBYE = N_("Goodbye!")
EXPLORE_USAGE = N_("Usage: /explore [strength] [strategy], for example /explore 0.5 bucket")
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
ECHOED_CHARS = 30  # of what the user typed, repeated in a refusal

LineReader = Callable[[], Awaitable[str]]
"""Returns the next line typed, without its newline; raises ``EOFError`` when input ends."""


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed line: the action asked for and its words."""

    action: str
    args: tuple[str, ...] = ()


def console_user() -> UserRef:
    """The person at this terminal: their login name, or ``local``."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = ""
    return UserRef("console", name or "local")


def terminal_language() -> str:
    """The language of the terminal's locale (``ru_RU.UTF-8`` is Russian), or English."""
    setting = next((os.environ[name] for name in LOCALE_VARIABLES if os.environ.get(name)), "")
    return i18n.language_of(setting.split(":")[0].split(".")[0])


def parse_line(line: str) -> Request | None:
    """``/command args`` is a command, a bare number a pick, other text a search."""
    words = tuple(line.split())
    if not words:
        return None
    if words[0].startswith("/"):
        return Request(words[0][1:].lower(), words[1:])
    if len(words) == 1 and words[0].isdecimal():
        return Request("pick", words)
    return Request("search", words)


def parse_explore_args(args: Sequence[str]) -> tuple[float | None, str | None]:
    """``/explore [strength] [strategy]`` in either order, as (strength, strategy)."""
    numbers, names = [], []
    for arg in args:
        try:
            numbers.append(float(arg))
        except ValueError:
            names.append(arg.lower())
    if len(numbers) > 1 or len(names) > 1:
        raise UsageError(EXPLORE_USAGE)
    return (numbers[0] if numbers else None), (names[0] if names else None)


async def read_stdin_line() -> str:
    """The next line of ``sys.stdin``, read without blocking the event loop.

    Bytes that are not valid text become U+FFFD instead of an error. The read runs in a
    daemon thread, not ``asyncio.to_thread``: after Ctrl-C, ``asyncio.run`` joins the
    default executor, and a thread blocked on a terminal would hold the exit until the
    next Enter. The thread holds its own reference to the stream, so the interpreter
    never closes it under a blocked read (a fatal error at exit).
    """
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()
    stream = sys.stdin

    def read() -> None:
        try:
            typed = stream.buffer.readline()
            outcome: str | Exception = typed.decode(stream.encoding, errors="replace")
        except Exception as error:
            outcome = error
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, line, outcome)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    text = await line
    if not text:
        raise EOFError
    return text.rstrip("\r\n")


def _settle(line: asyncio.Future[str], outcome: str | Exception) -> None:
    if line.done():
        return
    if isinstance(outcome, Exception):
        line.set_exception(outcome)
    else:
        line.set_result(outcome)


class ConsoleChat:
    """One user at one terminal, talking to a Recommender in ``language`` (default: the
    terminal's); ``languages`` keeps a language chosen with ``/language`` with the
    profile (without it, the choice lasts the session)."""

    def __init__(
        self,
        recommender: Recommender,
        user: UserRef,
        console: Console,
        read_line: LineReader = read_stdin_line,
        *,
        languages: Languages | None = None,
        language: str | None = None,
    ) -> None:
        self._recommender = recommender
        self._user = user
        self._console = console
        self._read_line = read_line
        self._languages = languages
        self._words = i18n.words(language or terminal_language())
        self._numbered: tuple[Movie, ...] = ()
        self._handlers: dict[str, Callable[[tuple[str, ...]], Awaitable[None]]] = {
            "search": self._search,
            "pick": self._pick,
            "dislike": self._dislike,
            "recommend": self._recommend,
            "explore": self._explore,
            "profile": self._profile,
            "undo": self._undo,
            "forget": self._forget,
            "language": self._language,
            "help": self._help,
        }

    def run_until_exit(self, on_exit: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run the chat in its own event loop, then ``on_exit`` in that loop.

        Ctrl-C ends the chat like ``exit``.
        """

        async def chat_then_clean_up() -> None:
            try:
                await self.run()
            finally:
                if on_exit is not None:
                    await on_exit()

        try:
            asyncio.run(chat_then_clean_up())
        except KeyboardInterrupt:
            self._console.line()
            self._say(Text(self._words.gettext(GOODBYE)))

    async def run(self) -> None:
        """Answer lines until ``exit`` or the end of input, then say goodbye (in the
        language the user chose, when the store keeps one)."""
        if self._languages is not None and (chosen := await self._languages.chosen(self._user)):
            self._words = i18n.words(chosen)
        index = self._recommender.index
        self._say(render_welcome(self._words, len(index), index.manifest.source))
        with contextlib.suppress(EOFError):  # input ended, or the user typed `exit`
            while True:
                await self.answer(await self._ask(PROMPT))
        self._say(Text(self._words.gettext(GOODBYE)))

    async def answer(self, line: str) -> None:
        """Run one line and show its result, or why it cannot be done."""
        request = parse_line(line)
        if request is None:
            return
        handler = self._handlers.get(request.action)
        try:
            if handler is None:
                raise UsageError(
                    N_("Unknown command /{command}. Type /help for the list."),
                    command=shorten(request.action, ECHOED_CHARS),
                )
            await handler(request.args)
        except InvalidRequestError as error:
            self._say(render_problem(texts.refusal(self._words, error)))
        except MovieBotError as error:
            self._say(render_problem(str(error)))

    async def _search(self, words: tuple[str, ...]) -> None:
        """Search, show the grid, and offer to pick one of the results."""
        hits = await self._recommender.search(" ".join(words), LIST_LENGTH)
        recommended = await self._recommender.recommend(self._user, LIST_LENGTH)
        explored = {
            name: await self._recommender.explore(self._user, LIST_LENGTH, name)
            for name in GRID_STRATEGIES
        }
        self._numbered = tuple(hit.movie for hit in hits)
        self._console.print(render_grid(self._words, hits, recommended, explored))
        if not self._recommender.reads(" ".join(words)):
            self._say(render_problem(self._words.gettext(texts.SEARCH_IN_ENGLISH)))
        if hits and (choice := await self._ask(self._words.gettext(PICK_PROMPT))):
            await self._pick(tuple(choice.split()))

    async def _pick(self, args: tuple[str, ...]) -> None:
        """Pick movie N of the last list."""
        movie = self._numbered_movie(args)
        result = await self._recommender.pick(self._user, movie.movie_id)
        self._say(render_result(self._words, result))

    async def _dislike(self, args: tuple[str, ...]) -> None:
        """Less like movie N of the last list."""
        movie = self._numbered_movie(args)
        result = await self._recommender.dislike(self._user, movie.movie_id)
        self._say(render_result(self._words, result))

    async def _recommend(self, _: tuple[str, ...]) -> None:
        """The movies nearest the taste, with reasons."""
        found = await self._recommender.recommend(self._user, LIST_LENGTH)
        self._show_list(self._words.gettext(RECOMMENDATIONS), found)

    async def _explore(self, args: tuple[str, ...]) -> None:
        """A step outside the taste: ``/explore [strength] [strategy]``."""
        strength, strategy = parse_explore_args(args)
        found = await self._recommender.explore(self._user, LIST_LENGTH, strategy, strength)
        self._show_list(self._words.gettext(N_("Exploring")), found)

    async def _profile(self, _: tuple[str, ...]) -> None:
        """What the bot knows about the user."""
        self._say(render_profile(self._words, await self._recommender.profile(self._user)))

    async def _undo(self, _: tuple[str, ...]) -> None:
        """Revert the last pick or dislike."""
        self._say(render_result(self._words, await self._recommender.undo(self._user)))

    async def _forget(self, _: tuple[str, ...]) -> None:
        """Delete everything about the user, once they confirm."""
        said = self._words
        yes = {"y", "yes", *said.gettext(YES_WORDS).lower().split()}
        if (await self._ask(said.gettext(FORGET_PROMPT))).lower() not in yes:
            self._say(Text(said.gettext("Nothing forgotten.")))
            return
        await self._recommender.forget(self._user)
        self._say(Text(said.gettext("Forgotten: no picks, no taste. Search to start again.")))

    async def _language(self, args: tuple[str, ...]) -> None:
        """``/language [code]``: speak ``code`` from now on; without it, say which."""
        known = self._languages.known if self._languages else i18n.LANGUAGES
        if not args:
            self._say(Text(texts.language_now(self._words, known)))
            return
        if len(args) > 1 or (self._languages is None and args[0].lower() not in known):
            raise UsageError(N_("Usage: /language, or /language followed by en or ru"))
        code = args[0].lower()
        if self._languages is not None:
            code = await self._languages.choose(self._user, code)
        self._words = i18n.words(code)
        self._say(Text(texts.language_chosen(self._words)))

    async def _help(self, _: tuple[str, ...]) -> None:
        """The list of commands."""
        self._say(render_help(self._words, self._recommender.strategy_names))

    async def _ask(self, prompt: str) -> str:
        """The next line typed, stripped; ``EOFError`` when input ends or at ``exit``."""
        self._say(Text(prompt), end="")
        try:
            line = (await self._read_line()).strip()
        except EOFError:
            self._console.line()
            raise
        if line.lower() in EXIT_WORDS:
            raise EOFError
        return line

    def _numbered_movie(self, args: tuple[str, ...]) -> Movie:
        if len(args) != 1:
            raise UsageError(N_("Give one movie number, for example 2."))
        if not self._numbered:
            raise UsageError(N_("Search first, then choose a movie by its number."))
        typed = shorten(args[0], ECHOED_CHARS)
        try:
            number = int(args[0])
        except ValueError:
            raise UsageError(
                N_("'{typed}' is not a movie number; nothing changed."), typed=typed
            ) from None
        if not 1 <= number <= len(self._numbered):
            raise UsageError(
                N_("There is no movie {typed}: choose 1 to {last}."),
                typed=typed,
                last=len(self._numbered),
            )
        return self._numbered[number - 1]

    def _show_list(self, title: str, found: Sequence[Recommendation]) -> None:
        self._numbered = tuple(rec.movie for rec in found)
        self._say(render_recommendations(self._words, title, found))

    def _say(self, text: Text, end: str = "\n") -> None:
        # soft_wrap: long lines are left to the terminal, not broken mid-title by rich.
        self._console.print(text, soft_wrap=True, end=end)
