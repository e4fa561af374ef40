"""The running bot, real Redis and the Bot API stand-in, for load and fault runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.catalog import SAMPLE, load_catalog
from core.embedders import OllamaEmbedder
from core.index import build_index
from testing.audit import Audit
from testing.crowd import Crowd
from testing.ollama_api import FakeOllama
from testing.telegram_api import FakeTelegram


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


@pytest.fixture
def record_run(record_property: Callable[[str, object], None]) -> Callable[[Crowd, Audit], None]:
    """Keep a run's figures for the summary table at the end of the session."""

    def record(crowd: Crowd, report: Audit) -> None:
        outcomes = crowd.outcomes()
        waits = [e.seconds for e in crowd.exchanges if e.seconds is not None]
        record_property(
            "stress run",
            (
                sum(outcomes.values()),
                outcomes["ok"],
                outcomes["try again"],
                outcomes["no answer"],
                f"{max(waits, default=0):.1f}",
                f"{len(crowd.finished)}/{len(crowd.users)}",
                report.picks,
                len(report.lost) + len(report.unannounced) + len(report.doubled),
                len(report.wrong_vectors),
            ),
        )

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A table of every stress run: what users sent and got, and what the audit found."""
    rows = [
        (report.nodeid.split("::")[-1], value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(report, "user_properties", [])
        if name == "stress run"
    ]
    if not rows:
        return
    terminalreporter.section("stress runs")
    columns = ("updates", "ok", "try again", "no answer", "slowest s", "finished", "picks")
    columns += ("lost/extra/doubled", "vectors off")
    terminalreporter.write_line(" | ".join(("run", *columns)))
    for name, figures in rows:
        terminalreporter.write_line(" | ".join((name, *map(str, figures))))
