"""The `moviebot` command: build-index and search, as a user runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from core.embedders import OnnxEmbedder
from core.index import MovieIndex
from core.models import Subscription, UserRef
from core.stores.redis import RedisProfileStore
from testing.data import shared_file
from testing.local_redis import LOCAL_REDIS, delete_prefix
from testing.telegram_api import FakeTelegram

runner = CliRunner()
MOVIEBOT = str(Path(sys.executable).with_name("moviebot"))
TOKEN = "123456:TEST-token"
TOKEN_SECRET_PART = "TEST-token"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from a clean environment, with the embedding cache in a temporary folder."""
    for name in ("MOVIEBOT_INDEX_DIR", "MOVIEBOT_CATALOG", "MOVIEBOT_EMBEDDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MOVIEBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def test_build_index_then_search_the_sample(tmp_path: Path) -> None:
    built = runner.invoke(app, ["build-index", "--source", "sample", "--out", "idx"])
    assert built.exit_code == 0, built.output
    assert "200 movies from sample" in built.output
    assert MovieIndex.load(tmp_path / "idx").manifest.embedder == "local:all-MiniLM-L6-v2-int8"

    found = runner.invoke(app, ["search", "die hard", "-k", "3", "--index", "idx"])
    assert found.exit_code == 0, found.output
    rows = [line for line in found.output.splitlines() if "Die Hard" in line]
    assert len(rows) == 3 and "1988" in found.output and "Action" in found.output


def test_index_dir_comes_from_the_environment(
    tmp_path: Path, sample_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(sample_index_dir))
    found = runner.invoke(app, ["search", "a shark attacks swimmers at a beach", "-k", "1"])
    assert found.exit_code == 0 and "Jaws" in found.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "jaws", "--index", "no-index"], "moviebot build-index"),
        (["build-index", "--source", "missing.csv", "--out", "idx"], "not found"),
    ],
)
def test_errors_are_one_clear_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_empty_search_is_refused_without_traceback(sample_index_dir: Path) -> None:
    result = runner.invoke(app, ["search", "   ", "--index", str(sample_index_dir)])
    assert result.exit_code == 1 and "Type a few words" in result.output


def test_failed_build_keeps_the_old_index(tmp_path: Path, sample_index_dir: Path) -> None:
    (tmp_path / "broken.csv").write_text("name\nAlien\n")
    before = MovieIndex.load(sample_index_dir).manifest
    result = runner.invoke(
        app, ["build-index", "--source", "broken.csv", "--out", str(sample_index_dir)]
    )
    assert result.exit_code == 1 and "no 'title' column" in result.output
    assert MovieIndex.load(sample_index_dir).manifest == before


@pytest.mark.slow
def test_die_hard_on_the_real_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The acceptance check: the full catalog, the default model, Die Hard movies first.

    Embedding 4,803 movies takes about half a minute once; the shared user cache keeps it.
    """
    catalog = shared_file("movies.parquet")
    monkeypatch.delenv("MOVIEBOT_CACHE_DIR")
    built = runner.invoke(app, ["build-index", "--source", str(catalog), "--out", "full"])
    assert built.exit_code == 0, built.output
    found = runner.invoke(app, ["search", "die hard", "-k", "5", "--index", "full"])
    rows = [line for line in found.output.splitlines() if "│" in line and "title" not in line]
    assert all("Die Hard" in row for row in rows[:3]), found.output


def test_push_asks_for_exactly_one_mode() -> None:
    for args in (["push"], ["push", "--dry-run", "--now"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "Choose one" in result.output


@pytest.fixture
async def redis_prefix(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    prefix = f"moviebot-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MOVIEBOT_REDIS_URL", LOCAL_REDIS)
    monkeypatch.setenv("MOVIEBOT_REDIS_PREFIX", prefix)
    yield prefix
    await delete_prefix(prefix)


async def subscribe(prefix: str, slots: dict[str, Subscription]) -> None:
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=prefix)
    for user_id, slot in slots.items():
        await store.set_subscription(UserRef("telegram", user_id), slot)
    await store.close()


async def test_push_dry_run_shows_who_would_get_what(
    redis_prefix: str, sample_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(sample_index_dir))
    await subscribe(redis_prefix, {"101": Subscription(4, 18), "102": Subscription(2, 9)})

    result = await asyncio.to_thread(
        runner.invoke, app, ["push", "--dry-run", "--at", "2026-11-27T18:30:00"]
    )

    assert result.exit_code == 0, result.output
    assert "telegram:101" in result.output and "2026-W48" in result.output
    assert "telegram:102" not in result.output
    assert "1 users would get their weekly picks; nothing was sent." in result.output


async def test_push_now_sends_what_is_due(
    redis_prefix: str, sample_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    await subscribe(redis_prefix, {"201": Subscription(now.weekday(), now.hour)})
    with FakeTelegram() as telegram:
        environment = {
            "MOVIEBOT_INDEX_DIR": str(sample_index_dir),
            "MOVIEBOT_TELEGRAM_TOKEN": "123456:TEST-token",
            "MOVIEBOT_TELEGRAM_BASE_URL": f"{telegram.url}/bot",
            "MOVIEBOT_SECRET": "a secret of more than sixteen characters",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)

        result = await asyncio.to_thread(runner.invoke, app, ["push", "--now"])
        again = await asyncio.to_thread(runner.invoke, app, ["push", "--now"])

        assert result.exit_code == 0, result.output
        assert "1 sent, 0 unsubscribed" in result.output
        assert "0 sent" in again.output
        (message,) = telegram.messages(201)
        assert message["text"].startswith("<b>Your weekly picks")


def test_push_with_profiles_in_memory_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEBOT_REDIS_URL", "memory://")
    result = runner.invoke(app, ["push", "--dry-run"])
    assert result.exit_code == 1
    assert "MOVIEBOT_REDIS_URL=memory:// keeps no profiles" in result.output


def test_the_demo_answers_from_the_shipped_vectors_without_embedding_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[int] = []
    original = OnnxEmbedder.embed_documents

    def counting(self: OnnxEmbedder, texts: list[str]) -> object:
        embedded.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(OnnxEmbedder, "embed_documents", counting)
    monkeypatch.setenv("MOVIEBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("MOVIEBOT_REDIS_URL", raising=False)

    result = runner.invoke(app, ["demo"], input="/search die hard\n/quit\n")

    assert result.exit_code == 0, result.output
    assert "indexing the bundled sample catalog" in result.output
    assert "Die Hard" in result.output
    assert embedded == []
    assert MovieIndex.load(tmp_path / "index").manifest.embedder == OnnxEmbedder.NAME


async def test_seed_community_adds_a_ratings_file_once(
    redis_prefix: str, sample_index_dir: Path, tmp_path: Path
) -> None:
    ids = [movie.movie_id for movie in MovieIndex.load(sample_index_dir).movies[:3]]
    (tmp_path / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n" + "".join(f"{n},0,{movie_id}\n" for n, movie_id in enumerate(ids))
    )
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        "1,0,5.0,100\n1,1,4.5,200\n1,2,2.0,300\n"  # the 2.0 is no like
        "2,2,4.0,100\n2,0,4.0,200\n"
        "3,1,5.0,100\n"  # one like pairs with nothing
    )
    files = ["--ratings", str(tmp_path / "ratings.csv"), "--links", str(tmp_path / "links.csv")]
    command = ["seed-community", *files, "--index", str(sample_index_dir)]

    first = await asyncio.to_thread(runner.invoke, app, command)
    second = await asyncio.to_thread(runner.invoke, app, command)

    assert first.exit_code == 0, first.output
    assert "added 4 likes of 2 people" in first.output
    assert second.exit_code == 0 and "added before" in second.output
    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=redis_prefix)
    counts = await store.co_picks(ids)
    picks = await store.pick_counts(ids)
    await store.close()
    assert counts == [{ids[1]: 1, ids[2]: 1}, {ids[0]: 1}, {ids[0]: 1}]
    assert picks == (2, 1, 1)


def run_bot_process(telegram: FakeTelegram, index_dir: Path, tmp_path: Path) -> tuple[int, str]:
    """`moviebot run` in a process of its own against ``telegram``: its exit status and
    everything it printed (stdout and stderr, where the log goes)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOVIEBOT_")}
    environment |= {
        "MOVIEBOT_TELEGRAM_TOKEN": TOKEN,
        "MOVIEBOT_TELEGRAM_BASE_URL": f"{telegram.url}/bot",
        "MOVIEBOT_SECRET": "a secret of more than sixteen characters",
        "MOVIEBOT_INDEX_DIR": str(index_dir),
        "MOVIEBOT_REDIS_URL": "memory://",
        "MOVIEBOT_METRICS_PORT": "0",
        "MOVIEBOT_CACHE_DIR": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1",
    }
    finished = subprocess.run(
        [MOVIEBOT, "run", "--platform", "telegram"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return finished.returncode, finished.stdout + finished.stderr


def test_a_refused_token_is_named_by_its_variable_never_shown(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    with FakeTelegram() as telegram:
        telegram.refuse_token(TOKEN)
        status, output = run_bot_process(telegram, sample_index_dir, tmp_path)
        assert [call.status for call in telegram.calls("getMe")] == [401]
    assert status == 2, output
    assert "Telegram refused the token from MOVIEBOT_TELEGRAM_TOKEN" in output
    assert TOKEN_SECRET_PART not in output and "Traceback" not in output


def test_an_unexpected_error_of_run_is_logged_with_the_token_masked(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    with FakeTelegram() as telegram:
        telegram.fail_next("setMyCommands", status=409, description="Conflict: injected")
        status, output = run_bot_process(telegram, sample_index_dir, tmp_path)
    assert status == 1, output
    assert "ERROR bot.cli moviebot run stopped by an unexpected error" in output
    assert "telegram.error.Conflict: Conflict: injected" in output
    assert TOKEN_SECRET_PART not in output
