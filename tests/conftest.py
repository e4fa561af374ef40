"""Fixtures shared by every test: the bundled sample index, a local Redis Cluster and a
key prefix of the test's own on the local Redis, which the session starts when nothing
answers at ``MOVIEBOT_TEST_REDIS_URL``."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import OnnxEmbedder, TorchEmbedder
from core.embedding_cache import EmbeddingCache
from core.index import MovieIndex, build_index
from testing.local_redis import LOCAL_REDIS, delete_prefix, local_redis_answers, start_local_redis
from testing.redis_servers import RedisCluster, RedisServer

SESSION_REDIS = pytest.StashKey[RedisServer | None]()


def pytest_configure(config: pytest.Config) -> None:
    """Start a Redis server at the test URL for the session when nothing answers there,
    so that the suite needs no Redis service."""
    config.stash[SESSION_REDIS] = None
    if not local_redis_answers():
        directory = Path(tempfile.mkdtemp(prefix="moviebot-test-redis-"))
        config.stash[SESSION_REDIS] = start_local_redis(directory)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(SESSION_REDIS, None)
    if server is not None:
        server.kill()
        shutil.rmtree(server.directory, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str:
    server = config.stash.get(SESSION_REDIS, None)
    if server is None:
        return f"redis: {LOCAL_REDIS} (already running)"
    return f"redis: {LOCAL_REDIS} started for this session: {server.binary}"


@pytest.fixture(scope="session")
def local_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    """The default local model (int8 MiniLM on onnxruntime), prepared for serving as the
    bot runs it, and loaded once for the run."""
    return OnnxEmbedder(prepared_dir=tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def torch_embedder() -> TorchEmbedder:
    """The fp32 MiniLM model on PyTorch, loaded once for the run; the ``torch`` extra."""
    pytest.importorskip("sentence_transformers", reason="the fp32 model needs the torch extra")
    return TorchEmbedder()


@pytest.fixture(scope="session")
def sample_index_dir(
    tmp_path_factory: pytest.TempPathFactory, local_embedder: OnnxEmbedder
) -> Path:
    """The bundled sample catalog embedded for real and saved once per run."""
    root = tmp_path_factory.mktemp("sample")
    cache = EmbeddingCache(root / "embeddings.sqlite")
    build_index(load_catalog(SAMPLE), local_embedder, cache=cache).save(root / "index")
    return root / "index"


@pytest.fixture(scope="session")
def sample_index(sample_index_dir: Path) -> MovieIndex:
    return MovieIndex.load(sample_index_dir)


@pytest.fixture(scope="session")
def rated_index(sample_index: MovieIndex) -> MovieIndex:
    """The sample with what TMDB's table adds (made-up numbers, fixed): a rating, a vote
    count, a runtime and a TMDB id for every movie; Die Hard's rating rests on 42 votes."""
    movies = [
        replace(
            movie,
            vote_average=5.0 + n % 40 / 10,
            vote_count=1000 + n,
            runtime=80 + n % 70,
            tmdb_id=100_000 + n,
        )
        for n, movie in enumerate(sample_index.movies)
    ]
    movies = [
        replace(movie, vote_average=7.5, vote_count=42, runtime=131, tmdb_id=562)
        if movie.label == "Die Hard (1988)"
        else movie
        for movie in movies
    ]
    vectors = sample_index.all_vectors()
    return MovieIndex.from_vectors(movies, vectors, sample_index.manifest.embedder)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A Redis Cluster of three local nodes, started once per session."""
    cluster = RedisCluster(Path(tmp_path_factory.mktemp("cluster")))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of the test's own on the local Redis; its keys are deleted after."""
    name = f"moviebot-test-{uuid.uuid4().hex[:12]}"
    yield name
    await delete_prefix(name)
