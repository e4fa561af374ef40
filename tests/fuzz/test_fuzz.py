"""The atheris fuzz target, run for a fixed number of inputs from a fixed seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stress
ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(__file__).with_name("fuzz_user_input.py")
RUNS = 20_000


def test_fuzzed_user_input_finds_nothing(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, str(TARGET), f"-runs={RUNS}", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert f"Done {RUNS} runs" in finished.stderr
