"""Fixtures for the core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.ollama_api import FakeOllama


@pytest.fixture
def ollama_server() -> Iterator[FakeOllama]:
    """A local Ollama emulator serving ``nomic-embed-text`` (768-d)."""
    with FakeOllama() as server:
        yield server
