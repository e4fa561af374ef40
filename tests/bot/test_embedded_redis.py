"""The embedded Redis of ``moviebot run``: started, serving, stopped, kept on disk, and
one bot per data directory."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import make_backend, make_demo_backend, open_recommender, serve
from bot.cli import app
from bot.config import Platform, Settings
from bot.embedded_redis import LOCK_FILE, EmbeddedRedisBackend, hold_lock, open_embedded_backend
from core.errors import MovieBotError
from core.models import Subscription, UserRef
from core.stores.memory import MemoryBackend
from core.stores.redis import RedisProfileStore
from testing.bot_process import MOVIEBOT, SECRET, TOKEN
from testing.redis_servers import embedded_server_pids
from testing.waiting import wait_until

ALICE = UserRef("telegram", "1001")
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_index_dir: Path) -> Path:
    """Settings of a bot whose profiles live in the embedded Redis of ``data_dir``."""
    monkeypatch.delenv("MOVIEBOT_REDIS_URL", raising=False)
    monkeypatch.setenv("MOVIEBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(sample_index_dir))
    return tmp_path / "data"


def store_at(url: str) -> RedisProfileStore:
    return RedisProfileStore.from_url(url, prefix="moviebot")


def unwrapped(text: str) -> str:
    """``text`` as one line: the terminal wraps long error lines."""
    return " ".join(text.split())


def die_hard(settings: Settings) -> int:
    index = open_recommender(settings).index
    return next(movie.movie_id for movie in index.movies if movie.title == "Die Hard")


async def test_the_server_starts_serves_and_stops_without_an_orphan(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.embedded_redis")
    backend = make_backend(Settings())
    assert isinstance(backend, EmbeddedRedisBackend)
    pid = backend.server.pid
    assert pid is not None and embedded_server_pids(data_dir) == [pid]

    assert await backend.readiness() is None
    await backend.store.set_subscription(ALICE, Subscription(4, 18))
    assert await backend.store.subscription(ALICE) == Subscription(4, 18)
    await backend.close()

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert embedded_server_pids(data_dir) == []
    assert f"profiles are kept in {data_dir} by an embedded Redis server" in caplog.text


async def test_a_pick_is_kept_across_a_stop_and_a_start(data_dir: Path) -> None:
    settings = Settings()
    movie_id = die_hard(settings)
    backend = make_backend(settings)
    await open_recommender(settings, store=backend.store).pick(ALICE, movie_id)
    await backend.close()

    again = make_backend(settings)
    try:
        profile = await again.store.load(ALICE)
    finally:
        await again.close()
    assert profile is not None and profile.picked == (movie_id,)


async def test_push_and_reindex_work_on_the_data_directory(data_dir: Path) -> None:
    settings = Settings()
    backend = make_backend(settings)
    await backend.store.set_subscription(ALICE, Subscription(4, 18))
    await open_recommender(settings, store=backend.store).pick(ALICE, die_hard(settings))
    await backend.close()

    at = ["--at", "2026-11-27T18:30:00"]
    planned = await asyncio.to_thread(runner.invoke, app, ["push", "--dry-run", *at])
    reindexed = await asyncio.to_thread(runner.invoke, app, ["reindex-profiles"])

    assert planned.exit_code == 0, planned.output
    assert "telegram:1001" in planned.output and "1 users would get" in planned.output
    assert reindexed.exit_code == 0, reindexed.output
    assert unwrapped(reindexed.output).startswith("1 profiles: 1 already on index")


async def test_a_second_bot_on_the_same_data_directory_refuses(data_dir: Path) -> None:
    first = make_backend(Settings())
    try:
        with pytest.raises(MovieBotError) as refused:
            open_embedded_backend(data_dir, store_at, lock_wait=0.2)
        reindex = await asyncio.to_thread(runner.invoke, app, ["reindex-profiles"])
    finally:
        await first.close()

    in_use = f"{data_dir} is in use by another moviebot (pid {os.getpid()})"
    assert str(refused.value).startswith(in_use)
    assert "set MOVIEBOT_DATA_DIR to another directory" in str(refused.value)
    assert reindex.exit_code == 1 and in_use in unwrapped(reindex.output)
    assert "Traceback" not in reindex.output


async def test_a_second_moviebot_run_refuses_with_a_clear_message(data_dir: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEBOT_")}
    environment |= {
        "MOVIEBOT_TELEGRAM_TOKEN": TOKEN,
        "MOVIEBOT_SECRET": SECRET,
        "MOVIEBOT_TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
        "MOVIEBOT_INDEX_DIR": os.environ["MOVIEBOT_INDEX_DIR"],
        "MOVIEBOT_DATA_DIR": str(data_dir),
        "MOVIEBOT_METRICS_PORT": "0",
    }
    first = make_backend(Settings())
    try:
        second = subprocess.run(
            [MOVIEBOT, "run"], env=environment, capture_output=True, text=True, timeout=120
        )
    finally:
        await first.close()
    assert second.returncode == 1
    in_use = f"{data_dir} is in use by another moviebot (pid {os.getpid()})"
    assert in_use in unwrapped(second.stderr)
    assert "Traceback" not in second.stderr


HOLDER = """
import asyncio, sys
from pathlib import Path
from bot.embedded_redis import open_embedded_backend
from core.models import Subscription, UserRef
from core.stores.redis import RedisProfileStore

async def main():
    backend = open_embedded_backend(
        Path(sys.argv[1]), lambda url: RedisProfileStore.from_url(url, prefix="moviebot")
    )
    await backend.store.set_subscription(UserRef("telegram", "1001"), Subscription(4, 18))
    print(backend.server.pid, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_a_bot_killed_with_sigkill_leaves_no_server_and_no_lock(data_dir: Path) -> None:
    """The kernel frees the lock of a killed bot, and its server stops with it (Linux)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    server_pid = int(holder.stdout.readline())
    assert embedded_server_pids(data_dir) == [server_pid]

    holder.send_signal(signal.SIGKILL)
    holder.wait()
    await wait_until(lambda: not embedded_server_pids(data_dir), timeout=10)

    backend = open_embedded_backend(data_dir, store_at)
    try:
        assert await backend.store.subscription(ALICE) == Subscription(4, 18)
    finally:
        await backend.close()


async def test_a_bot_that_fails_at_start_stops_its_server(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOVIEBOT_SECRET", raising=False)
    with pytest.raises(MovieBotError, match="set MOVIEBOT_SECRET"):
        await serve(Settings(), [Platform.telegram], asyncio.Event())
    assert embedded_server_pids(data_dir) == []
    os.close(hold_lock(data_dir / LOCK_FILE, wait=0))


async def test_a_relative_data_directory_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    backend = open_embedded_backend(Path("profiles"), store_at)
    try:
        assert await backend.readiness() is None
    finally:
        await backend.close()
    assert (tmp_path / "profiles" / LOCK_FILE).is_file()


def test_memory_url_keeps_profiles_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_REDIS_URL", "memory://")
    assert isinstance(make_backend(Settings()), MemoryBackend)
    assert isinstance(make_demo_backend(Settings()), MemoryBackend)


def test_the_demo_keeps_profiles_in_memory_by_default(data_dir: Path) -> None:
    assert isinstance(make_demo_backend(Settings()), MemoryBackend)
    assert not data_dir.exists()


def test_a_data_directory_too_long_for_a_socket_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MovieBotError, match="MOVIEBOT_DATA_DIR is too long"):
        open_embedded_backend(tmp_path / ("x" * 120), store_at)
