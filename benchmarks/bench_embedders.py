"""Benchmark the local models: int8 MiniLM on onnxruntime (the default) against fp32
MiniLM on PyTorch (the ``torch`` extra).

Each model runs in a process of its own, so that its import, load and memory are its
own: load time, query embedding p50/p99 over 300 short queries (after 20 to warm up),
the whole catalog of ../shared/data/movies.parquet embedded (no cache) and the process's
peak RSS. Then the two models' catalog vectors are compared: mean and lowest cosine of
each movie's two vectors, and the share of each movie's 10 nearest neighbours that both
models agree on. The report (markdown) goes to stdout::

    python benchmarks/bench_embedders.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.app import make_embedder
from bot.config import EmbedderKind, Settings
from core.catalog import load_catalog
from core.text import document_text
from testing.benchmarking import p50, p99, table
from testing.data import SHARED_DATA

QUERIES = ("die hard", "a romantic comedy in paris", "space horror on a ship")
NEIGHBOURS = 10
CATALOG = str(SHARED_DATA / "movies.parquet")


def measure(kind: EmbedderKind, vectors_out: Path) -> dict[str, float]:
    """One model's figures; its catalog vectors go to ``vectors_out``."""
    embedder = make_embedder(kind, Settings())
    started = time.perf_counter()
    embedder.embed_query("warm up")
    load = time.perf_counter() - started
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
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_own_process(kind: EmbedderKind, scratch: Path) -> tuple[dict[str, float], np.ndarray]:
    print(f"{kind} ...", file=sys.stderr)
    vectors = scratch / f"{kind}.npy"
    command = [sys.executable, __file__, "--one", str(kind), str(vectors)]
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
        scratch = Path(directory)
        onnx, onnx_vectors = in_own_process(EmbedderKind.local, scratch)
        torch, torch_vectors = in_own_process(EmbedderKind.torch, scratch)
    columns = "model | load s | query p50 ms | query p99 ms | catalog s | peak RSS MiB"
    rows = [
        [
            name,
            f"{r['load_s']:.2f}",
            f"{r['query_p50_ms']:.2f}",
            f"{r['query_p99_ms']:.2f}",
            f"{r['catalog_s']:.1f}",
            f"{r['peak_rss_mib']:.0f}",
        ]
        for name, r in (("int8 onnxruntime (local)", onnx), ("fp32 PyTorch (torch)", torch))
    ]
    print(f"{int(onnx['movies'])} movies of movies.parquet, 2 cores\n")
    print("\n".join(table(columns, rows, left=1)))
    cosines = np.sum(onnx_vectors * torch_vectors, axis=1)
    print(
        f"\ncosine of the two models' vectors: mean {cosines.mean():.4f}, "
        f"lowest {cosines.min():.4f}; {NEIGHBOURS} nearest neighbours shared: "
        f"{shared_neighbours(onnx_vectors, torch_vectors):.1%}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(EmbedderKind(sys.argv[2]), Path(sys.argv[3]))))
    else:
        main()
