"""The one wiring point: settings -> store -> index -> Recommender -> chat adapters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from adapters.buttons import ButtonCodec
from adapters.i18n import LANGUAGES
from adapters.rate_limit import RateLimit, UserRateLimit
from adapters.services import ChatServices
from bot.config import MEMORY_URL, EmbedderKind, Platform, RedisSettings, Settings
from bot.embedded_redis import open_embedded_backend
from bot.observability import Check, Connections, Metrics, Readiness, TimedStore, health_server
from bot.platforms import PLATFORMS
from bot.scheduler import scheduled_forgetting, scheduled_push
from core.catalog import SAMPLE, load_catalog
from core.community import CoPickSettings
from core.embedders import OllamaEmbedder, OnnxEmbedder, TorchEmbedder
from core.embedding_cache import EmbeddingCache, ProgressCallback, embed_documents_cached
from core.errors import EmbedderError, IndexFileError, MovieBotError, StoreFullError
from core.index import MANIFEST_FILE, IndexParams, MovieIndex, read_manifest
from core.languages import Languages
from core.models import Subscription
from core.movienight import MovieNights
from core.ports import Backend, Embedder, LobbyStore, Notifier, ProfileStore, PushLedger, Telemetry
from core.push import PushSettings, WeeklyPush
from core.recommender import Recommender
from core.sample import shipped_vectors
from core.stores.memory import MemoryBackend, MemoryProfileStore
from core.stores.memory_lobbies import MemoryLobbyStore
from core.stores.redis import RedisBackend, RedisProfileStore
from core.subscriptions import Subscriptions
from core.text import document_text

log = logging.getLogger(__name__)


def make_embedder(kind: EmbedderKind, settings: Settings, dim: int | None = None) -> Embedder:
    """The embedder of this kind, configured from settings; ``dim`` is the vector length
    of the index it serves, when there is one."""
    if kind is EmbedderKind.ollama:
        ollama = settings.ollama
        return OllamaEmbedder(
            ollama.url, ollama.model, timeout=ollama.timeout, retries=ollama.retries, dim=dim
        )
    if kind is EmbedderKind.torch:
        return TorchEmbedder()
    return OnnxEmbedder(prepared_dir=settings.embedding.cache_dir / "models")


def embedder_kind_of(embedder_name: str) -> EmbedderKind:
    """The kind of embedder that produced vectors named ``embedder_name``."""
    if embedder_name == OnnxEmbedder.NAME:
        return EmbedderKind.local
    if embedder_name == TorchEmbedder.NAME:
        return EmbedderKind.torch
    if embedder_name.startswith("ollama:"):
        return EmbedderKind.ollama
    raise IndexFileError(f"the index names an unknown embedder: {embedder_name}")


def embedding_cache(settings: Settings) -> EmbeddingCache:
    """The on-disk cache of document embeddings."""
    return EmbeddingCache(settings.embedding.cache_dir / "embeddings.sqlite")


def index_params(settings: Settings) -> IndexParams:
    """Index build and search parameters from settings."""
    index = settings.index
    return IndexParams(index.hnsw_m, index.ef_construction, index.ef_search)


def make_backend(settings: Settings) -> Backend:
    """Profiles in memory with ``MOVIEBOT_REDIS_URL=memory://``, else in Redis (see
    :func:`make_redis_backend`)."""
    if settings.redis.in_memory:
        return MemoryBackend(settings.community.co_picks())
    return make_redis_backend(settings)


def make_demo_backend(settings: Settings) -> Backend:
    """The demo's profiles: in memory, as befits a try-out, unless ``MOVIEBOT_REDIS_URL``
    names a store."""
    if settings.redis.url is None:
        return MemoryBackend(settings.community.co_picks())
    return make_backend(settings)


def make_redis_backend(settings: Settings) -> RedisBackend:
    """The Redis store and push ledger of ``MOVIEBOT_REDIS_*``: on the server of the URL
    (no connection is opened yet), or, when it is unset, on the embedded server of
    ``MOVIEBOT_DATA_DIR``, started here and stopped by the backend's ``close()``.

    Raises:
        MovieBotError: ``MOVIEBOT_REDIS_URL`` is ``memory://``; or the embedded server
            cannot start (another bot uses the data directory).
    """
    redis, co_picks = settings.redis, settings.community.co_picks()
    if redis.in_memory:
        raise MovieBotError(
            f"MOVIEBOT_REDIS_URL={MEMORY_URL} keeps no profiles on disk to work on: unset it "
            "to use the embedded Redis of MOVIEBOT_DATA_DIR, or set a redis:// URL"
        )
    if redis.url is None:
        return open_embedded_backend(
            redis.data_dir, lambda url: redis_store(url, redis, False, co_picks)
        )
    url = redis.url.get_secret_value()
    return RedisBackend(redis_store(url, redis, redis.cluster, co_picks))


def redis_store(
    url: str, redis: RedisSettings, cluster: bool, co_picks: CoPickSettings
) -> RedisProfileStore:
    """A store on the server of ``url`` with the pool, timeouts and prefix of settings."""
    return RedisProfileStore.from_url(
        url,
        pool_size=redis.pool_size,
        timeout=redis.timeout,
        connect_timeout=redis.connect_timeout,
        prefix=redis.prefix,
        cluster=cluster,
        community=co_picks,
    )


def open_recommender(
    settings: Settings,
    index_dir: Path | None = None,
    store: ProfileStore | None = None,
    telemetry: Telemetry | None = None,
) -> Recommender:
    """Load the index, pair it with the embedder it was built with, and a profile store."""
    directory = index_dir or settings.index.dir
    manifest = read_manifest(directory)
    embedder = make_embedder(embedder_kind_of(manifest.embedder), settings, manifest.dim)
    index = MovieIndex.load(directory, embedder=embedder.name, dim=embedder.dim)
    return Recommender(index, embedder, store or MemoryProfileStore(), telemetry=telemetry)


def open_subscriptions(settings: Settings, store: ProfileStore) -> Subscriptions:
    """The weekly-picks subscriptions in ``store``, with the default slot of settings."""
    return Subscriptions(store, Subscription(settings.push.weekday, settings.push.hour))


def has_index(directory: Path) -> bool:
    """Whether ``directory`` holds an index (a manifest), sound or not."""
    return (directory / MANIFEST_FILE).is_file()


def build_sample_index(
    settings: Settings, on_progress: ProgressCallback | None = None
) -> MovieIndex:
    """Index the bundled sample catalog with the default local model into the index
    directory, taking the shipped vectors when they are the model's and embedding otherwise.

    Raises:
        IndexFileError: the directory holds other files; they are never overwritten.
    """
    directory = settings.index.dir
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise IndexFileError(
            f"{directory} holds no index but is not empty: set MOVIEBOT_INDEX_DIR elsewhere"
        )
    catalog = load_catalog(SAMPLE)
    embedder = make_embedder(EmbedderKind.local, settings)
    texts = [document_text(movie) for movie in catalog.movies]
    vectors = shipped_vectors(embedder.name, texts)
    if vectors is None:
        vectors = embed_documents_cached(embedder, texts, embedding_cache(settings), on_progress)
    index = MovieIndex.from_vectors(
        catalog.movies, vectors, embedder.name, index_params(settings), catalog.source
    )
    index.save(directory)
    return index


def configured_platforms(settings: Settings) -> list[Platform]:
    """The chat platforms that have a token."""
    tokens = {Platform.telegram: settings.telegram.token, Platform.discord: settings.discord.token}
    return [platform for platform, token in tokens.items() if token is not None]


def button_codec(settings: Settings, index: MovieIndex) -> ButtonCodec:
    """The signer of button payloads for this index.

    Raises:
        MovieBotError: ``MOVIEBOT_SECRET`` is not set.
    """
    buttons = settings.buttons
    if buttons.secret is None:
        raise MovieBotError(
            "set MOVIEBOT_SECRET to a random string of 32 characters or more, e.g. the "
            "output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    previous = (
        [buttons.secret_previous.get_secret_value().encode()] if buttons.secret_previous else []
    )
    return ButtonCodec(buttons.secret.get_secret_value().encode(), index.fingerprint, previous)


async def serve(settings: Settings, platforms: Sequence[Platform], stop: asyncio.Event) -> None:
    """Answer every platform of ``platforms`` from one Recommender, in this event loop,
    send the weekly picks when they are due, and serve metrics and health, until ``stop``
    is set."""
    metrics = Metrics()
    backend = make_backend(settings)
    try:
        timed_store = TimedStore(backend.store, metrics)
        recommender = open_recommender(settings, store=timed_store, telemetry=metrics)
        codec = button_codec(settings, recommender.index)
        subscriptions = open_subscriptions(settings, timed_store)
        nights = MovieNights(recommender, lobby_store(backend), settings.movienight.night())
        await warm_up(recommender)
        async with AsyncExitStack() as serving:
            observability = settings.observability
            connections = Connections(len(platforms))
            if observability.metrics_port:
                await serving.enter_async_context(
                    health_server(
                        observability.metrics_listen,
                        observability.metrics_port,
                        metrics,
                        readiness(backend, recommender, connections),
                    )
                )
            served = [
                await serving.enter_async_context(
                    PLATFORMS[platform](
                        settings,
                        ChatServices(
                            recommender,
                            subscriptions,
                            codec,
                            *rate_limits(settings, backend),
                            observer=metrics.command,
                            lists=backend.lists,
                            languages=Languages(timed_store, LANGUAGES),
                        ),
                        nights,
                    )
                )
                for platform in platforms
            ]
            connections.extend(platform.problem for platform in served)
            notifiers = [platform.notifier for platform in served]
            if settings.push.enabled:
                push = weekly_push(
                    settings, recommender, timed_store, notifiers, backend.push_ledger
                )
                await serving.enter_async_context(scheduled_push(push, stop, metrics.pushed))
            if months := settings.retention.forget_inactive_months:
                await serving.enter_async_context(scheduled_forgetting(timed_store, months))
            await stop.wait()
    finally:
        await backend.close()


def rate_limits(settings: Settings, backend: Backend) -> tuple[RateLimit, RateLimit]:
    """The per-user limits on searches and on every command and button: in Redis when
    the profiles are, so that every process serving the bot counts together."""
    limits = settings.limits
    searches = (limits.searches, limits.searches_window)
    requests = (limits.requests, limits.requests_window)
    if isinstance(backend, RedisBackend):
        store = backend.store
        return store.rate_limit("searches", *searches), store.rate_limit("requests", *requests)
    return UserRateLimit(*searches), UserRateLimit(*requests)


def lobby_store(backend: Backend) -> LobbyStore:
    """Where movie nights live: beside the profiles in Redis, else in memory."""
    return backend.store.lobbies() if isinstance(backend, RedisBackend) else MemoryLobbyStore()


def readiness(backend: Backend, recommender: Recommender, connections: Check) -> Readiness:
    """``/readyz``: the profile store answers, the embedder embeds and every chat
    platform is connected (checked at most every two seconds; what failed goes to the
    log, not to the answer)."""

    async def store_problem() -> str | None:
        problem = await backend.readiness()
        if problem is None:
            return None
        log.warning("not ready: %s", problem)
        full = isinstance(problem, StoreFullError)
        return "profile store full" if full else "profile store not ready"

    async def embedder_problem() -> str | None:
        try:
            await recommender.warm_up()
        except EmbedderError as error:
            log.warning("not ready: %s", error)
            return "embedder not ready"
        return None

    return Readiness([store_problem, embedder_problem, connections])


async def warm_up(recommender: Recommender) -> None:
    """Load the embedding model before the first user comes; an embedder that does not
    answer yet is only reported: each search tries it again."""
    try:
        await recommender.warm_up()
    except EmbedderError as error:
        log.warning("the embedder does not answer yet: %s", error)


def weekly_push(
    settings: Settings,
    recommender: Recommender,
    store: ProfileStore,
    notifiers: list[Notifier],
    ledger: PushLedger,
) -> WeeklyPush:
    """The weekly push of ``MOVIEBOT_PUSH_*`` through ``notifiers``."""
    push = settings.push
    rates = {"telegram": push.telegram_per_second, "discord": push.discord_per_second}
    options = PushSettings(
        picks=push.picks,
        strength=push.strength,
        catch_up_hours=push.catch_up_hours,
        per_second=rates,
        lease_seconds=push.lease_seconds,
    )
    return WeeklyPush(recommender, store, ledger, notifiers, options)
