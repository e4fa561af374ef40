"""What the core reports to the operator's :class:`~core.ports.Telemetry`: how long each
stage takes; and the telemetry of a core that nobody watches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from core.ports import Telemetry


class Unobserved:
    """Telemetry that nobody watches: every report is dropped."""

    def timed(self, stage: str, seconds: float) -> None:
        pass

    def picked(self, platform: str) -> None:
        pass


@contextmanager
def timed(telemetry: Telemetry, stage: str) -> Iterator[None]:
    """Report to ``telemetry`` how long the block took, as ``stage``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        telemetry.timed(stage, time.perf_counter() - started)
