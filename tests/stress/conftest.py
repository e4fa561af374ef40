"""The running bot, real Redis and the Bot API stand-in, for load and fault runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import OllamaEmbedder
from core.index import build_index
from tests.fakes.ollama_server import FakeOllama
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture(scope="module")
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture(scope="module")
def ollama_index_dir(tmp_path_factory: pytest.TempPathFactory, ollama: FakeOllama) -> Path:
    """The sample catalog embedded by the Ollama stand-in: an index whose embedder a
    test can make fail or hang."""
    path = tmp_path_factory.mktemp("ollama") / "index"
    build_index(load_catalog(SAMPLE), OllamaEmbedder(host=ollama.url)).save(path)
    return path
