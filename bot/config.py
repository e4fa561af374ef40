"""Settings from the environment or a ``.env`` file, one section per part.

Every variable starts with ``MOVIEBOT_``; see ``README.md`` for the list.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.catalog import COHERE_MOVIES
from core.community import CoPickSettings
from core.lobbies import NightSettings

MEMORY_URL = "memory://"


def _section(prefix: str) -> SettingsConfigDict:
    """An empty value (``MOVIEBOT_TELEGRAM_TOKEN=`` in ``.env``) counts as unset."""
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", env_ignore_empty=True
    )


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "moviebot"


def _default_data_dir() -> Path:
    """``$XDG_DATA_HOME/moviebot``, or ``~/.local/share/moviebot`` when that is unset or empty."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "moviebot"


class Platform(StrEnum):
    """A chat platform that ``moviebot run`` can serve."""

    telegram = "telegram"
    discord = "discord"


class EmbedderKind(StrEnum):
    """Which embedding model to use: ``local`` is all-MiniLM-L6-v2 with int8 weights on
    onnxruntime, ``torch`` the same model in fp32 on PyTorch (the ``torch`` extra),
    ``ollama`` a model on an Ollama server."""

    local = "local"
    torch = "torch"
    ollama = "ollama"


class EmbedderSettings(BaseSettings):
    """``MOVIEBOT_EMBEDDER`` and the embedding cache."""

    model_config = _section("MOVIEBOT_")

    embedder: EmbedderKind = EmbedderKind.local
    cache_dir: Path = Field(default_factory=_default_cache_dir)


class OllamaSettings(BaseSettings):
    """``MOVIEBOT_OLLAMA_*``: where the Ollama server is and which model it serves."""

    model_config = _section("MOVIEBOT_OLLAMA_")

    url: str = "http://127.0.0.1:11434"
    model: str = "nomic-embed-text"
    timeout: float = 60.0
    retries: int = 3


class IndexSettings(BaseSettings):
    """``MOVIEBOT_INDEX_*`` and ``MOVIEBOT_CATALOG``: what to index and where it lives."""

    model_config = _section("MOVIEBOT_INDEX_")

    dir: Path = Path("data/index")
    catalog: str = Field(default=COHERE_MOVIES, validation_alias="MOVIEBOT_CATALOG")
    hnsw_m: int = Field(default=32, ge=4, le=256)
    ef_construction: int = Field(default=200, ge=8)
    ef_search: int = Field(default=128, ge=8)


class RedisSettings(BaseSettings):
    """``MOVIEBOT_REDIS_*``: where taste profiles live. Without a URL they live in an
    embedded Redis server with its files in ``MOVIEBOT_DATA_DIR``; ``memory://`` keeps
    them in memory. With ``MOVIEBOT_REDIS_CLUSTER=true`` the URL names one node of a
    Redis Cluster."""

    model_config = _section("MOVIEBOT_REDIS_")

    url: SecretStr | None = None
    data_dir: Path = Field(default_factory=_default_data_dir, validation_alias="MOVIEBOT_DATA_DIR")
    cluster: bool = False
    prefix: str = Field(default="moviebot", min_length=1)
    pool_size: int = Field(default=50, ge=1)
    timeout: float = Field(default=2.0, gt=0)
    connect_timeout: float = Field(default=2.0, gt=0)

    @field_validator("url", mode="before")
    @classmethod
    def _redis_url(cls, url: object) -> object:
        """Unset or empty means the embedded server; else ``memory://``, or a URL that
        starts with redis:// or rediss://."""
        text = url.get_secret_value() if isinstance(url, SecretStr) else url
        if text in (None, ""):
            return None
        if text != MEMORY_URL and not str(text).startswith(("redis://", "rediss://")):
            raise ValueError(
                f"MOVIEBOT_REDIS_URL must start with redis:// or rediss://, or be {MEMORY_URL}"
            )
        return url

    @property
    def in_memory(self) -> bool:
        """Whether ``MOVIEBOT_REDIS_URL=memory://`` keeps the profiles in memory."""
        return self.url is not None and self.url.get_secret_value() == MEMORY_URL


class CommunitySettings(BaseSettings):
    """``MOVIEBOT_COMMUNITY_*``: how the community's co-picks are counted (see
    core/community.py): each pick pairs with the user's ``window`` picks before it, and
    each movie keeps its ``neighbours`` strongest pairs. Choose the window before the bot
    goes live: undos and forgets take back pairs by the window of the day."""

    model_config = _section("MOVIEBOT_COMMUNITY_")

    window: int = Field(default=10, ge=1, le=100)
    neighbours: int = Field(default=200, ge=1, le=10_000)

    def co_picks(self) -> CoPickSettings:
        return CoPickSettings(self.window, self.neighbours)


class TelegramSettings(BaseSettings):
    """``MOVIEBOT_TELEGRAM_*``: the bot token from @BotFather; optionally the Bot API
    endpoint (a self-hosted Bot API server, or a local stand-in in tests) and a webhook
    (its public HTTPS URL, and the address and port the bot listens on behind a proxy);
    how many of one user's updates may wait while one is answered (more are dropped)."""

    model_config = _section("MOVIEBOT_TELEGRAM_")

    token: SecretStr | None = None
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    max_waiting_updates: int = Field(default=10, ge=1)


class DiscordSettings(BaseSettings):
    """``MOVIEBOT_DISCORD_*``: the bot token of the Discord application; optionally one
    server (guild) id whose slash commands are synced at once, for development (global
    commands can take up to an hour to appear everywhere)."""

    model_config = _section("MOVIEBOT_DISCORD_")

    token: SecretStr | None = None
    guild_id: int | None = Field(default=None, ge=1)


class WeeklyPushSettings(BaseSettings):
    """``MOVIEBOT_PUSH_*``: the weekly exploratory picks: whether the bot sends them, the
    slot of a ``/subscribe`` without arguments (weekday 0 is Monday; the hour is UTC unless
    the user names a time zone), how many movies, how far from the taste, how late a
    missed slot is still served, the sending rate per platform, and the lease of the
    sending process: another process takes over once it has not been renewed for this
    long (nor its unsettled claims settled), after a crash or a kill."""

    model_config = _section("MOVIEBOT_PUSH_")

    enabled: bool = True
    weekday: int = Field(default=4, ge=0, le=6)
    hour: int = Field(default=18, ge=0, le=23)
    picks: int = Field(default=3, ge=1, le=10)
    strength: float = Field(default=0.5, ge=0.0, le=1.0)
    catch_up_hours: float = Field(default=12.0, gt=0.0, le=144.0)
    telegram_per_second: float = Field(default=25.0, gt=0.0)
    discord_per_second: float = Field(default=25.0, gt=0.0)
    lease_seconds: float = Field(default=60.0, ge=1.0, le=600.0)


class RetentionSettings(BaseSettings):
    """``MOVIEBOT_FORGET_INACTIVE_MONTHS``: a user whose profile has not changed for this
    many months (30 days each) is forgotten, as ``/forget`` would; 0 keeps everyone."""

    model_config = _section("MOVIEBOT_")

    forget_inactive_months: int = Field(default=24, ge=0, le=1_200)


class LimitSettings(BaseSettings):
    """``MOVIEBOT_LIMIT_*``: how many commands and button presses, and how many searches,
    one user may make in a window of seconds (counted in Redis when the profiles are
    there, so every process serving the bot shares them)."""

    model_config = _section("MOVIEBOT_LIMIT_")

    requests: int = Field(default=30, ge=1)
    requests_window: float = Field(default=60.0, gt=0.0)
    searches: int = Field(default=10, ge=1)
    searches_window: float = Field(default=30.0, gt=0.0)


class MovieNightSettings(BaseSettings):
    """``MOVIEBOT_MOVIENIGHT_*``: how many minutes a movie night's lobby waits before it
    starts by itself, how many its vote lasts before it closes by itself, and how many
    hours a night is kept (its winner can be marked watched until then)."""

    model_config = _section("MOVIEBOT_MOVIENIGHT_")

    start_minutes: float = Field(default=10.0, gt=0.0, le=1440.0)
    vote_minutes: float = Field(default=10.0, gt=0.0, le=1440.0)
    keep_hours: float = Field(default=48.0, gt=0.0, le=720.0)

    def night(self) -> NightSettings:
        keep = max(self.keep_hours * 3600, (self.start_minutes + self.vote_minutes) * 60)
        return NightSettings(self.start_minutes * 60, self.vote_minutes * 60, keep)


class ObservabilitySettings(BaseSettings):
    """``MOVIEBOT_METRICS_LISTEN`` and ``MOVIEBOT_METRICS_PORT``: where ``/metrics``,
    ``/healthz`` and ``/readyz`` are served (port 0 turns them off). Loopback by default:
    nothing of them is for the public."""

    model_config = _section("MOVIEBOT_")

    metrics_listen: str = "127.0.0.1"
    metrics_port: int = Field(default=9100, ge=0, le=65535)


class ButtonSettings(BaseSettings):
    """``MOVIEBOT_SECRET``: the secret (32 characters or more) that the keys signing button
    payloads and authenticating webhook updates are derived from; ``MOVIEBOT_SECRET_PREVIOUS``:
    the one it replaced, whose buttons are still read after a rotation."""

    model_config = _section("MOVIEBOT_")

    secret: SecretStr | None = None
    secret_previous: SecretStr | None = None

    @field_validator("secret", "secret_previous")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """32 characters or more; a previous secret of an older release may have 16."""
        shortest = 32 if info.field_name == "secret" else 16
        if secret is not None and len(secret.get_secret_value()) < shortest:
            raise ValueError(
                f"must be at least {shortest} characters; generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return secret


class Settings(BaseModel):
    """All settings of the program, each section read from the environment."""

    embedding: EmbedderSettings = Field(default_factory=EmbedderSettings)
    ollama: OllamaSettings = Field(default_factory=OllamaSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    community: CommunitySettings = Field(default_factory=CommunitySettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    push: WeeklyPushSettings = Field(default_factory=WeeklyPushSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    movienight: MovieNightSettings = Field(default_factory=MovieNightSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    buttons: ButtonSettings = Field(default_factory=ButtonSettings)
