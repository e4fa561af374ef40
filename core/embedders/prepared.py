"""The int8 model prepared once for serving.

When onnxruntime loads the int8 model, it folds every weight back to fp32 and optimizes
the graph; loading took 243 MiB at its peak and kept 130 MiB. Prepared once, in a child
process, and saved as an optimized ONNX graph with its weights in a file of their own,
the model loads with its weights memory-mapped: 55 MiB at the peak and after, and it
embeds as fast (``benchmarks/bench_embedders.py``, docs/embedders.md).

A prepared copy lives in a folder named by the source model's sha256 and the onnxruntime
version, with the sha256 of both of its files; a missing or damaged copy is prepared again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from core.errors import EmbedderError

GRAPH_FILE = "model.onnx"
WEIGHTS_FILE = "weights.bin"
MANIFEST_FILE = "prepared.json"
_IN_CHILD = (
    "import sys; from pathlib import Path; from core.embedders.prepared import prepare; "
    "prepare(Path(sys.argv[1]), Path(sys.argv[2]))"
)


def prepared_model(source: Path, source_sha256: str, directory: Path) -> Path:
    """The graph file of the prepared copy of ``source`` (whose bytes were checked to be
    ``source_sha256``) in ``directory``, preparing it first when there is none intact.

    Raises:
        EmbedderError: the model could not be prepared.
    """
    import onnxruntime

    target = directory / f"{source_sha256[:16]}-onnxruntime-{onnxruntime.__version__}"
    if not _intact(target):
        _prepare_in_child(source, target)
    return target / GRAPH_FILE


def prepare(source: Path, directory: Path) -> None:
    """Optimize ``source`` with onnxruntime and save it into ``directory``, weights apart.

    Runs in the child process of :func:`prepared_model`.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(directory / GRAPH_FILE)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", WEIGHTS_FILE
    )
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
    )
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def _prepare_in_child(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".preparing-", dir=target.parent))
    try:
        done = subprocess.run(
            [sys.executable, "-c", _IN_CHILD, str(source), str(staging)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not (staging / WEIGHTS_FILE).is_file():
            reason = (done.stderr.strip().splitlines() or ["no weights were written"])[-1]
            raise EmbedderError(f"cannot prepare the model {source}: {reason}")
        hashes = {name: _sha256(staging / name) for name in (GRAPH_FILE, WEIGHTS_FILE)}
        (staging / MANIFEST_FILE).write_text(json.dumps(hashes, indent=2) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _intact(target: Path) -> bool:
    try:
        hashes = json.loads((target / MANIFEST_FILE).read_text())
        return all(_sha256(target / name) == hashes[name] for name in (GRAPH_FILE, WEIGHTS_FILE))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
