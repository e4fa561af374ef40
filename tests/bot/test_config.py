"""Settings from a ``.env`` file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import configured_platforms
from bot.cli import app
from bot.config import Settings

PARTLY_FILLED = """\
# Copy to .env and fill in.
MOVIEBOT_SECRET=
MOVIEBOT_TELEGRAM_TOKEN=
MOVIEBOT_DISCORD_TOKEN=
MOVIEBOT_REDIS_URL=
MOVIEBOT_METRICS_PORT=9200
"""


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A partly filled ``.env`` in the working directory, and no MOVIEBOT_* variable."""
    for name in ("SECRET", "TELEGRAM_TOKEN", "DISCORD_TOKEN", "REDIS_URL", "METRICS_PORT"):
        monkeypatch.delenv(f"MOVIEBOT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(PARTLY_FILLED)
    return tmp_path / ".env"


def test_empty_values_in_env_file_count_as_unset(env_file: Path) -> None:
    settings = Settings()
    assert settings.telegram.token is None and settings.discord.token is None
    assert settings.buttons.secret is None and settings.redis.url is None
    assert settings.observability.metrics_port == 9200
    assert configured_platforms(settings) == []


def test_an_empty_token_does_not_start_telegram(env_file: Path) -> None:
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 1 and "No chat platform is configured" in result.output


def test_empty_environment_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET", "TELEGRAM_TOKEN", "DISCORD_TOKEN", "REDIS_URL"):
        monkeypatch.setenv(f"MOVIEBOT_{name}", "")
    settings = Settings()
    assert configured_platforms(settings) == [] and settings.buttons.secret is None
    assert settings.redis.url is None


def test_the_data_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MOVIEBOT_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert Settings().redis.data_dir == tmp_path / "moviebot"
    monkeypatch.setenv("XDG_DATA_HOME", "")
    assert Settings().redis.data_dir == Path.home() / ".local" / "share" / "moviebot"
    monkeypatch.setenv("MOVIEBOT_DATA_DIR", str(tmp_path / "profiles"))
    assert Settings().redis.data_dir == tmp_path / "profiles"


def test_movie_night_minutes_become_seconds_and_a_night_outlives_its_vote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOVIEBOT_MOVIENIGHT_START_MINUTES", "2")
    monkeypatch.setenv("MOVIEBOT_MOVIENIGHT_VOTE_MINUTES", "90")
    monkeypatch.setenv("MOVIEBOT_MOVIENIGHT_KEEP_HOURS", "1")
    night = Settings().movienight.night()
    assert (night.start_after, night.vote_for) == (120, 5400)
    assert night.keep_for == 92 * 60
    monkeypatch.setenv("MOVIEBOT_MOVIENIGHT_VOTE_MINUTES", "0")
    with pytest.raises(ValueError, match="vote_minutes"):
        Settings()
