"""`moviebot demo`: the console chat, its parsing and rendering, and the command itself.

The chat runs on the bundled sample index with the real local model: in process with a
scripted keyboard, through typer's CliRunner, and once as a real process on a pipe.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import re
import select
import signal
import subprocess
import sys
import uuid
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from redis.asyncio import Redis
from rich.console import Console, RenderableType
from typer.testing import CliRunner

from adapters.console import PROMPT, ConsoleChat, Request, parse_explore_args, parse_line
from adapters.console_render import render_grid, render_profile, render_recommendations
from adapters.i18n import LANGUAGES, words
from bot.cli import app
from core.embedders import OnnxEmbedder
from core.errors import InvalidRequestError
from core.index import MovieIndex
from core.languages import Languages
from core.models import (
    Movie,
    ProfileSummary,
    Reason,
    ReasonKind,
    Recommendation,
    SearchHit,
    TasteProfile,
    UserRef,
)
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore
from testing.local_redis import LOCAL_REDIS

USER = UserRef("console", "tester")
EN = words("en")
runner = CliRunner()


def as_text(renderable: RenderableType, width: int = 160) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable, soft_wrap=False)
    return console.file.getvalue()  # type: ignore[attr-defined]


def numbered_labels(output: str) -> list[str]:
    """The movies of every numbered list line (`` 2. Title (year) - reason``)."""
    return re.findall(r"^\s*\d+\. (.+?) - ", output, flags=re.MULTILINE)


class Conversation:
    """A ConsoleChat fed from a script, its screen kept as text."""

    def __init__(
        self, recommender: Recommender, language: str = "en", languages: Languages | None = None
    ) -> None:
        self.screen = io.StringIO()
        self._script: deque[str] = deque()
        console = Console(file=self.screen, width=200, color_system=None)
        self.chat = ConsoleChat(
            recommender, USER, console, self._type, language=language, languages=languages
        )

    async def say(self, line: str, *replies: str) -> str:
        """Type ``line`` at the prompt, ``replies`` at the prompts it asks; return the answer."""
        start = len(self.screen.getvalue())
        self.screen.write(f"{PROMPT}{line}\n")
        self._script.extend(replies)
        await self.chat.answer(line)
        assert not self._script, f"unread replies: {self._script}"
        return self.screen.getvalue()[start:]

    async def run(self, *lines: str) -> str:
        """Run the whole chat over ``lines``, then the end of input."""
        self._script.extend(lines)
        await self.chat.run()
        return self.screen.getvalue()

    async def _type(self) -> str:
        if not self._script:
            raise EOFError
        line = self._script.popleft()
        self.screen.write(f"{line}\n")  # the echo a terminal would show
        return line


@pytest.fixture
def store() -> MemoryProfileStore:
    return MemoryProfileStore()


@pytest.fixture
def talk(
    sample_index: MovieIndex, local_embedder: OnnxEmbedder, store: MemoryProfileStore
) -> Conversation:
    recommender = Recommender(sample_index, local_embedder, store, rng=np.random.default_rng(0))
    return Conversation(recommender)


def state(profile: TasteProfile | None) -> tuple[object, ...]:
    """Everything a command could change in a stored profile."""
    assert profile is not None
    vector = None if profile.vector is None else profile.vector.tobytes()
    return profile.picked, profile.disliked, vector, len(profile.undo), profile.last_pick_at


# Parsing and rendering, on strings.


@pytest.mark.parametrize(
    ("line", "request_"),
    [
        ("  \t ", None),
        ("die hard", Request("search", ("die", "hard"))),
        ("3", Request("pick", ("3",))),
        ("3 4", Request("search", ("3", "4"))),
        ("-1", Request("search", ("-1",))),
        ("/Explore 0.5 bucket", Request("explore", ("0.5", "bucket"))),
        ("/", Request("", ())),
    ],
)
def test_lines_parse_into_requests(line: str, request_: Request | None) -> None:
    assert parse_line(line) == request_


@pytest.mark.parametrize(
    ("args", "expected"),
    [((), (None, None)), (("0.5", "Bucket"), (0.5, "bucket")), (("angle", "1"), (1.0, "angle"))],
)
def test_explore_takes_strength_and_strategy_in_any_order(
    args: tuple[str, ...], expected: tuple[float | None, str | None]
) -> None:
    assert parse_explore_args(args) == expected


def test_explore_parsing_leaves_odd_numbers_to_the_core() -> None:
    strength, _ = parse_explore_args(("nan",))
    assert strength is not None and math.isnan(strength)


@pytest.mark.parametrize("args", [("0.1", "0.2"), ("angle", "bucket"), ("1", "a", "b")])
def test_explore_with_two_of_a_kind_shows_its_usage(args: tuple[str, ...]) -> None:
    with pytest.raises(InvalidRequestError, match="Usage: /explore"):
        parse_explore_args(args)


def test_the_grid_numbers_search_results_beside_the_taste_columns() -> None:
    movies = [Movie(i, f"Movie {i}", 2000 + i) for i in range(1, 6)]
    odd = Movie(9, "[bold]Not markup[/bold]")
    grid = as_text(
        render_grid(
            EN,
            [SearchHit(movie, 0.9) for movie in movies],
            [Recommendation(odd, 0.5, "because")],
            {
                "angle": [Recommendation(movies[0], 0.4, "x")],
                "bucket": [Recommendation(movies[1], 0.3, "y")],
            },
        )
    )
    header, *rows = [line for line in grid.splitlines() if line.startswith(("┃", "│"))]
    assert re.findall(r"[A-Z][\w ()]+?(?= +┃)", header) == [
        "Search results",
        "Recommendations",
        "Exploring (angle)",
        "Exploring (bucket)",
    ]
    assert len(rows) == 5 and "5. Movie 5 (2005)" in rows[4]
    assert "1. Movie 1 (2001)" in rows[0] and "[bold]Not markup[/bold]" in rows[0]


def test_a_list_shows_each_movie_with_its_reason() -> None:
    close_to_aliens = Reason(ReasonKind.CLOSE_TO_PICK, Movie(2, "Aliens", 1986))
    found = [Recommendation(Movie(1, "Alien", 1979), 0.8, close_to_aliens)]
    assert as_text(render_recommendations(EN, "Recommendations", found)).splitlines() == [
        "Recommendations",
        " 1. Alien (1979) - close to Aliens (1986), which you picked",
    ]


def test_the_profile_counts_picks_and_helps_a_newcomer() -> None:
    newcomer = as_text(render_profile(EN, ProfileSummary(0, 0, (), ())))
    regular = as_text(
        render_profile(EN, ProfileSummary(1, 2, ("Action",), (Movie(1, "Die Hard", 1988),)))
    )
    assert newcomer.startswith("0 picks, 0 disliked") and "pick it by its number" in newcomer
    assert regular.splitlines() == [
        "1 pick, 2 disliked",
        "Top genres: Action",
        "Last picks: Die Hard (1988)",
    ]


# The chat in process, with a scripted keyboard.


async def test_search_pick_recommend_profile_undo(
    talk: Conversation, store: MemoryProfileStore
) -> None:
    grid = await talk.say("die hard", "1")
    assert "1. Die Hard (1988)" in grid and grid.rstrip().endswith("✓ picked: Die Hard (1988)")

    recommended = numbered_labels(await talk.say("/recommend"))
    assert {"Die Hard 2 (1990)", "Die Hard with a Vengeance (1995)"} <= set(recommended)
    assert "Die Hard (1988)" not in recommended and len(recommended) == 5

    assert "1 pick, 0 disliked" in await talk.say("/profile")
    assert "↶ undid pick: Die Hard (1988)" in await talk.say("/undo")
    assert "0 picks" in await talk.say("/profile")
    assert state(await store.load(USER))[:3] == ((), (), None)


async def test_the_chat_speaks_russian_and_keeps_a_chosen_language(
    sample_index: MovieIndex, local_embedder: OnnxEmbedder, store: MemoryProfileStore
) -> None:
    recommender = Recommender(sample_index, local_embedder, store, rng=np.random.default_rng(0))
    russian = Conversation(recommender, "ru", Languages(store, LANGUAGES))
    grid = await russian.say("die hard", "1")
    assert "Результаты поиска" in grid and "Номер фильма для выбора" in grid
    assert grid.rstrip().endswith("✓ выбрано: Die Hard (1988)")
    assert "1 выбор, 0 «меньше такого»" in await russian.say("/profile")
    assert "ищите по английскому названию" in await russian.say("крепкий орешек", "")
    assert "Команды /frobnicate нет." in await russian.say("/frobnicate")
    assert "Ничего не забыто." in await russian.say("/forget", "нет")

    assert "From now on I speak English" in await russian.say("/language en")
    assert await store.language(USER) == "en"
    assert "1 pick, 0 disliked" in await russian.say("/profile")
    again = Conversation(recommender, "ru", Languages(store, LANGUAGES))
    assert (await again.run()).rstrip().endswith("Goodbye!")


async def test_explore_shows_other_movies_than_recommend(talk: Conversation) -> None:
    await talk.say("die hard", "1")
    recommended = numbered_labels(await talk.say("/recommend"))
    explored = await talk.say("/explore 0.6 bucket")
    assert "exploring (bucket 0.6)" in explored
    assert len(numbered_labels(explored)) == 5
    assert not set(numbered_labels(explored)) & {*recommended, "Die Hard (1988)"}


@pytest.mark.parametrize(
    ("line", "replies", "message"),
    [
        ("/frobnicate", (), "Unknown command /frobnicate. Type /help for the list."),
        ("9", (), "There is no movie 9: choose 1 to 5."),
        ("die hard", ("abc",), "'abc' is not a movie number; nothing changed."),
        ("die hard", ("0",), "There is no movie 0: choose 1 to 5."),
        ("die hard", ("1 2",), "Give one movie number, for example 2."),
        ("/explore 1e308", (), "Strength goes from 0 (your taste) to 1 (far from it)."),
        ("/explore nan", (), "Strength goes from 0 (your taste) to 1 (far from it)."),
        ("/explore -0.1", (), "Strength goes from 0 (your taste) to 1 (far from it)."),
        ("/explore 0.3 warp", (), "Unknown exploration 'warp'. Try one of: angle,"),
        ("/explore 1 2", (), "Usage: /explore [strength] [strategy]"),
        ("/dislike", (), "Give one movie number, for example 2."),
        ("1", (), "already picked: Die Hard (1988)"),
        ("\u200b\u2060", (), "Type a few words"),
    ],
)
async def test_bad_input_gets_one_line_and_changes_nothing(
    talk: Conversation, store: MemoryProfileStore, line: str, replies: tuple[str, ...], message: str
) -> None:
    await talk.say("die hard", "1")
    before = state(await store.load(USER))
    answer = await talk.say(line, *replies)
    assert message in answer and "Traceback" not in answer
    assert state(await store.load(USER)) == before


async def test_a_number_before_any_list_asks_for_a_search_first(talk: Conversation) -> None:
    assert "Search first, then choose a movie by its number." in await talk.say("1")


async def test_nothing_to_undo_is_said_plainly(talk: Conversation) -> None:
    assert "Nothing to undo." in await talk.say("/undo")


async def test_a_number_picks_from_the_last_list(talk: Conversation) -> None:
    starters = numbered_labels(await talk.say("/recommend"))
    assert f"✓ picked: {starters[1]}" in await talk.say("2")


async def test_dislike_steers_away_and_hides_the_movie(
    talk: Conversation, store: MemoryProfileStore
) -> None:
    await talk.say("die hard", "1")
    first = numbered_labels(await talk.say("/recommend"))[0]
    assert f"✗ less like: {first}" in await talk.say("/dislike 1")
    assert first not in numbered_labels(await talk.say("/recommend"))
    assert state(await store.load(USER))[1] != ()


async def test_forget_asks_before_it_deletes(talk: Conversation, store: MemoryProfileStore) -> None:
    await talk.say("die hard", "1")
    assert "Nothing forgotten." in await talk.say("/forget", "")
    assert "Nothing forgotten." in await talk.say("/forget", "no")
    assert await store.load(USER) is not None
    assert "Forgotten" in await talk.say("/forget", "y")
    assert await store.load(USER) is None


async def test_help_lists_every_command(talk: Conversation) -> None:
    shown = await talk.say("/help")
    for command in ("/recommend", "/explore", "/profile", "/undo", "/forget", "exit"):
        assert command in shown
    assert "angle | gaussian | bucket" in shown


@pytest.mark.parametrize(
    "lines", [(), ("exit",), ("/profile", "QUIT"), ("die hard", "exit"), ("/forget",)]
)
async def test_exit_or_end_of_input_says_goodbye_anywhere(
    talk: Conversation, store: MemoryProfileStore, lines: tuple[str, ...]
) -> None:
    output = await talk.run(*lines)
    assert output.startswith("moviebot demo: 200 movies from sample.")
    assert output.rstrip().endswith("Goodbye!")
    assert await store.load(USER) is None


# The `moviebot demo` command, through its stdin.


@pytest.fixture
def demo_env(tmp_path: Path, sample_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment whose index directory is the session's sample index."""
    for name in ("MOVIEBOT_CATALOG", "MOVIEBOT_EMBEDDER", "MOVIEBOT_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(sample_index_dir))
    monkeypatch.setenv("MOVIEBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def demo(*lines: str) -> str:
    result = runner.invoke(app, ["demo"], input="".join(f"{line}\n" for line in lines))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.usefixtures("demo_env")
def test_demo_session_through_stdin() -> None:
    output = demo(
        "die hard", "1", "/recommend", "/profile", "/undo", "/profile", "/recommend", "exit"
    )
    assert "First run" not in output and "┃ Search results" in output
    assert "Pick a movie number (Enter to skip): ✓ picked: Die Hard (1988)" in output
    after_pick, after_undo = output.split("↶ undid pick: Die Hard (1988)")
    assert {"Die Hard 2 (1990)", "Die Hard with a Vengeance (1995)"} <= set(
        numbered_labels(after_pick)
    )
    assert "Die Hard (1988)" not in numbered_labels(after_pick)
    assert "1 pick, 0 disliked" in after_pick and "0 picks, 0 disliked" in after_undo
    assert "which you picked" not in after_undo
    assert output.rstrip().endswith("Goodbye!")


@pytest.mark.usefixtures("demo_env")
def test_demo_bad_inputs_through_stdin_change_nothing() -> None:
    output = demo(
        "die hard", "1", "/frobnicate", "7", "die hard", "x", "/explore 1e308",
        "/explore nan", "/explore 0.3 warp", "/profile",
    )  # fmt: skip
    for message in (
        "Unknown command /frobnicate.",
        "There is no movie 7: choose 1 to 5.",
        "'x' is not a movie number; nothing changed.",
        "Unknown exploration 'warp'.",
    ):
        assert message in output
    assert output.count("Strength goes from 0 (your taste) to 1 (far from it).") == 2
    assert output.count("✓ picked") == 1 and "1 pick, 0 disliked" in output
    assert output.rstrip().endswith("Goodbye!")


@pytest.mark.usefixtures("demo_env")
def test_bytes_that_are_not_text_are_searched_as_replacement_characters() -> None:
    result = runner.invoke(app, ["demo"], input=b"caf\xe9 \xff\n\n/profile\n")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert "┃ Search results" in result.output and "0 picks, 0 disliked" in result.output


def test_first_run_builds_the_sample_index_then_reuses_it(
    demo_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = demo_env / "fresh" / "index"
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(index_dir))

    first = demo("exit")
    assert "First run: indexing the bundled sample catalog" in first
    assert "200 movies indexed" in first
    built = MovieIndex.load(index_dir).manifest
    assert (built.count, built.source) == (200, "sample")

    second = demo("exit")
    assert "First run" not in second and "200 movies from sample" in second
    assert MovieIndex.load(index_dir).manifest == built


def test_demo_never_builds_over_a_directory_of_other_files(
    demo_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = demo_env / "notes" / "keep.txt"
    keep.parent.mkdir()
    keep.write_text("mine")
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(keep.parent))
    result = runner.invoke(app, ["demo"], input="exit\n")
    assert result.exit_code == 1 and "is not empty" in result.output
    assert keep.read_text() == "mine"


def test_demo_keeps_picks_in_redis_when_it_is_configured(
    demo_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"moviebot-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MOVIEBOT_REDIS_URL", LOCAL_REDIS)
    monkeypatch.setenv("MOVIEBOT_REDIS_PREFIX", prefix)
    try:
        assert "✓ picked: Die Hard (1988)" in demo("die hard", "1", "exit")
        later = demo("/profile", "/forget", "y", "/profile")
    finally:
        asyncio.run(delete_keys(prefix))
    remembered, forgotten = later.split("Forgotten")
    assert "1 pick, 0 disliked" in remembered and "0 picks, 0 disliked" in forgotten


async def delete_keys(prefix: str) -> None:
    client = Redis.from_url(LOCAL_REDIS)
    async for key in client.scan_iter(match=f"{prefix}:*"):
        await client.delete(key)
    await client.aclose()


def test_demo_process_on_a_pipe_ends_cleanly_on_ctrl_c(demo_env: Path) -> None:
    """A real ``moviebot demo`` process: type on its stdin, then interrupt it at a prompt."""
    moviebot = str(Path(sys.executable).with_name("moviebot"))
    # A parent that ignores SIGINT (a job started with `&` by a script) passes that on;
    # at a terminal Ctrl-C has its default meaning, so the demo starts with that.
    with_ctrl_c = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    with_ctrl_c += "os.execv(sys.argv[1], sys.argv[1:])"
    process = subprocess.Popen(
        [sys.executable, "-c", with_ctrl_c, moviebot, "demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b"die hard\n1\n/profile\n")
        process.stdin.flush()
        shown = read_until(process.stdout, "Last picks: Die Hard (1988)\n" + PROMPT)
        assert "✓ picked: Die Hard (1988)" in shown
        process.send_signal(signal.SIGINT)  # stdin stays open: no EOF comes to the rescue
        said = read_until(process.stdout, "Goodbye!\n", timeout=60, missing_ok=True)
        ended = process.wait(timeout=60) if said else None
    finally:
        process.kill()
        _, problems = process.communicate()
    what = f"exit {process.returncode}, stderr: {problems.decode()[-2000:]!r}"
    assert said.strip() == "Goodbye!" and ended == 0, what
    assert "Traceback" not in problems.decode()


def read_until(
    stream: io.BufferedReader, marker: str, timeout: float = 180.0, missing_ok: bool = False
) -> str:
    """What a process prints up to ``marker``; fails rather than hangs if it never comes
    (or, with ``missing_ok``, returns what came before the output ended or went quiet)."""
    seen = b""
    while marker.encode() not in seen:
        ready, _, _ = select.select([stream], [], [], timeout)
        chunk = os.read(stream.fileno(), 4096) if ready else b""
        if not chunk and missing_ok:
            return ""
        assert chunk, f"no {marker!r} in {seen.decode()!r}"
        seen += chunk
    return seen.decode()
