"""Benchmark the local models: int8 MiniLM on onnxruntime (the default), as the bot runs
it (prepared for serving, in the cache) and as shipped, against fp32 MiniLM on PyTorch
(the ``torch`` extra).

Each model runs in a process of its own, so that its import, load and memory are its
own: load time and the memory the load added (at its peak, and after), query embedding
p50/p99 over 300 short queries (after 20 to warm up), then the whole catalog of
../shared/data/movies.parquet embedded (no cache). Then the int8 and fp32 catalog vectors
are compared: mean and lowest cosine of each movie's two vectors, and the share of each
movie's 10 nearest neighbours that both models agree on. The report (markdown) goes to
stdout::

    python benchmarks/bench_embedders.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.app import make_embedder
from bot.config import EmbedderKind, Settings
from core.catalog import load_catalog
from core.embedders import OnnxEmbedder
from core.text import document_text
from testing.benchmarking import p50, p99, table
from testing.data import SHARED_DATA

QUERIES = ("die hard", "a romantic comedy in paris", "space horror on a ship")
NEIGHBOURS = 10
CATALOG = str(SHARED_DATA / "movies.parquet")


MODELS = {
    "prepared": "int8 onnxruntime, prepared (local)",
    "shipped": "int8 onnxruntime, as shipped",
    "torch": "fp32 PyTorch (torch)",
}


def measure(model: str, vectors_out: Path) -> dict[str, float]:
    """One model's figures; its catalog vectors go to ``vectors_out``."""
    if model == "prepared":  # prepared beforehand, as `moviebot build-index` leaves it
        make_embedder(EmbedderKind.local, Settings()).embed_query("prepare")
    embedder = {
        "prepared": lambda: make_embedder(EmbedderKind.local, Settings()),
        "shipped": OnnxEmbedder,
        "torch": lambda: make_embedder(EmbedderKind.torch, Settings()),
    }[model]()
    before = _status_mib("VmRSS")
    _reset_peak()
    started = time.perf_counter()
    embedder.embed_query("warm up")
    load = time.perf_counter() - started
    load_peak, load_after = _status_mib("VmHWM") - before, _status_mib("VmRSS") - before
    for _ in range(20):
        embedder.embed_query(QUERIES[0])
    latencies = []
    for round_number in range(300):
        started = time.perf_counter()
        embedder.embed_query(QUERIES[round_number % len(QUERIES)])
        latencies.append((time.perf_counter() - started) * 1000)
    texts = [document_text(movie) for movie in load_catalog(CATALOG).movies]
    started = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    catalog = time.perf_counter() - started
    np.save(vectors_out, vectors)
    return {
        "load_s": load,
        "query_p50_ms": p50(latencies),
        "query_p99_ms": p99(latencies),
        "catalog_s": catalog,
        "movies": len(texts),
        "load_peak_mib": load_peak,
        "load_after_mib": load_after,
    }


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _reset_peak() -> None:
    """Start VmHWM afresh (Linux: writing 5 to clear_refs resets the peak)."""
    Path("/proc/self/clear_refs").write_text("5")


def in_own_process(model: str, scratch: Path) -> tuple[dict[str, float], np.ndarray]:
    print(f"{model} ...", file=sys.stderr)
    vectors = scratch / f"{model}.npy"
    command = [sys.executable, __file__, "--one", model, str(vectors)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1]), np.load(vectors)


def shared_neighbours(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of each row's nearest neighbours (itself left out) that a and b share."""
    shared = 0
    for start in range(0, len(a), 512):
        rows = np.arange(start, min(start + 512, len(a)))
        near_a, near_b = (_nearest(vectors, rows) for vectors in (a, b))
        shared += sum(len(set(x) & set(y)) for x, y in zip(near_a, near_b, strict=True))
    return shared / (len(a) * NEIGHBOURS)


def _nearest(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    similarities = vectors[rows] @ vectors.T
    similarities[np.arange(len(rows)), rows] = -np.inf
    nearest: np.ndarray = np.argpartition(-similarities, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
    return nearest


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        results = {model: in_own_process(model, Path(directory)) for model in MODELS}
    columns = (
        "model | load s | load peak MiB | after load MiB | query p50 ms | query p99 ms | catalog s"
    )
    rows = [
        [MODELS[model], f"{r['load_s']:.2f}", f"{r['load_peak_mib']:.0f}",
         f"{r['load_after_mib']:.0f}", f"{r['query_p50_ms']:.2f}", f"{r['query_p99_ms']:.2f}",
         f"{r['catalog_s']:.1f}"]
        for model, (r, _) in results.items()
    ]  # fmt: skip
    print(f"{int(results['torch'][0]['movies'])} movies of movies.parquet, 2 cores\n")
    print("\n".join(table(columns, rows, left=1)))
    int8, fp32 = results["prepared"][1], results["torch"][1]
    cosines = np.sum(int8 * fp32, axis=1)
    print(
        f"\ncosine of the int8 and fp32 vectors: mean {cosines.mean():.4f}, "
        f"lowest {cosines.min():.4f}; {NEIGHBOURS} nearest neighbours shared: "
        f"{shared_neighbours(int8, fp32):.1%}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(sys.argv[2], Path(sys.argv[3]))))
    else:
        main()
