"""The one wiring point: settings -> embedder -> index -> Recommender."""

from __future__ import annotations

from pathlib import Path

from bot.config import EmbedderKind, Settings
from core.embedders import LocalEmbedder, OllamaEmbedder
from core.embedding_cache import EmbeddingCache
from core.errors import IndexFileError
from core.index import IndexParams, MovieIndex, read_manifest
from core.ports import Embedder, ProfileStore
from core.recommender import Recommender
from core.stores.memory import MemoryProfileStore


def make_embedder(kind: EmbedderKind, settings: Settings) -> Embedder:
    """The embedder of this kind, configured from settings."""
    if kind is EmbedderKind.ollama:
        ollama = settings.ollama
        return OllamaEmbedder(
            ollama.host, ollama.model, timeout=ollama.timeout, retries=ollama.retries
        )
    return LocalEmbedder()


def embedder_kind_of(embedder_name: str) -> EmbedderKind:
    """The kind of embedder that produced vectors named ``embedder_name``."""
    try:
        return EmbedderKind(embedder_name.split(":", 1)[0])
    except ValueError:
        raise IndexFileError(f"the index names an unknown embedder: {embedder_name}") from None


def embedding_cache(settings: Settings) -> EmbeddingCache:
    """The on-disk cache of document embeddings."""
    return EmbeddingCache(settings.embedding.cache_dir / "embeddings.sqlite")


def index_params(settings: Settings) -> IndexParams:
    """Index build and search parameters from settings."""
    index = settings.index
    return IndexParams(index.hnsw_m, index.ef_construction, index.ef_search)


def open_recommender(
    settings: Settings, index_dir: Path | None = None, store: ProfileStore | None = None
) -> Recommender:
    """Load the index, pair it with the embedder it was built with, and a profile store."""
    directory = index_dir or settings.index.dir
    manifest = read_manifest(directory)
    embedder = make_embedder(embedder_kind_of(manifest.embedder), settings)
    index = MovieIndex.load(directory, embedder=embedder.name, dim=embedder.dim)
    return Recommender(index, embedder, store or MemoryProfileStore())
