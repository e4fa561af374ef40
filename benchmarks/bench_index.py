"""Benchmark the movie index: build time, size, recall@10 and single-query latency.

Two datasets: the real catalog embedded with MiniLM through the app's embedding cache,
and a synthetic clustered set (default 1,000,000 x 384). Recall is measured against
exact inner-product search; latency is one query at a time on one thread. Run from the
repository root; the report (markdown) goes to stdout, progress to stderr::

    python benchmarks/bench_index.py [--catalog PATH] [--synthetic-n N] [--skip-synthetic]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from bot.app import embedding_cache
from bot.config import Settings
from core.catalog import load_catalog
from core.embedders import OnnxEmbedder
from core.embedding_cache import embed_documents_cached
from core.index import IndexParams, index_kind, new_faiss_index
from core.text import document_text
from testing.benchmarking import FULL_CATALOG, p50, p99, table

K = 10
SEED = 1234
ALL_THREADS = faiss.omp_get_max_threads()
WARMUP_QUERIES = 50
GROUND_TRUTH_BATCH = 250
CATALOG_NOISY_QUERIES = 1_000
CATALOG_QUERY_NOISE = 0.3  # norm of the Gaussian jitter added to a unit catalog vector
SYNTHETIC_QUERIES = 1_000
SYNTHETIC_CLUSTERS = 1_000
SYNTHETIC_SPREAD = 0.8  # norm of the within-cluster noise around a unit centre
SYNTHETIC_EF_SEARCH = (32, 64, 128, 256)
EXACT_TIMED_QUERIES = 100
OUR_HNSW = IndexParams(hnsw_m=32, ef_construction=200, ef_search=128, exact_max_vectors=0)
TARGET_CATALOG_RECALL = 0.98
TARGET_RECALL = 0.95
TARGET_P99_MS = 2.0
MEMORY_SLACK = 1.2
TEXT_QUERIES = (
    "space adventure with aliens",
    "romantic comedy in New York",
    "heist movie with a clever twist",
    "haunted house horror",
    "animated movie for kids about talking animals",
    "war drama set in World War II",
    "superhero team saves the world",
    "detective solves a murder mystery",
    "coming of age story about high school friends",
    "time travel paradox",
    "zombie apocalypse survival",
    "biopic of a famous musician",
    "courtroom drama about a wrongful conviction",
    "road trip comedy",
    "dystopian future ruled by machines",
    "sports underdog wins the championship",
    "spy thriller with double agents",
    "pirates searching for treasure",
    "fantasy quest to destroy a magic ring",
    "disaster movie with a giant earthquake",
    "vampire romance",
    "gangster film about the mafia",
    "martial arts revenge",
    "musical about dancers chasing their dreams",
    "western with outlaws and a sheriff",
    "serial killer thriller",
    "family drama about a dying parent",
    "astronauts stranded on Mars",
    "robot that learns to feel",
    "teen slasher at a summer camp",
    "political conspiracy thriller",
    "epic historical battle in ancient Rome",
    "shark attack at the beach",
    "buddy cop action comedy",
    "con artists and a big swindle",
    "found footage horror in the woods",
    "fairy tale princess",
    "prison escape",
    "alien invasion of Earth",
    "love triangle in a small town",
    "car chases and street racing",
    "post-apocalyptic wasteland",
    "ghost story with a grieving widow",
    "wedding goes hilariously wrong",
    "submarine thriller during the Cold War",
    "dinosaurs brought back to life",
    "boxer fights his way back",
    "magic school for young wizards",
    "hacker uncovers a corporate secret",
    "christmas family comedy",
)


@dataclass(frozen=True, slots=True)
class Dataset:
    """Base vectors, queries, their exact top-k ids, and the exact index that found them.

    Queries from ``text_start`` on are text queries (``None``: there are none).
    """

    name: str
    base: np.ndarray
    queries: np.ndarray
    truth: np.ndarray
    exact: faiss.Index
    exact_build_s: float
    text_start: int | None = None


@dataclass(frozen=True, slots=True)
class Row:
    """The measurements of one (dataset, variant)."""

    dataset: str
    variant: str
    build_s: float
    index_bytes: int
    count: int
    dim: int
    recall: float
    text_recall: float | None
    p50_ms: float
    p99_ms: float
    p50_cpu_ms: float
    p99_cpu_ms: float
    timed_queries: int
    m: int | None
    ef_construction: int | None
    ef_search: int | None

    @property
    def bytes_per_vector(self) -> float:
        return self.index_bytes / self.count


def log(message: str) -> None:
    """Progress on stderr, so stdout stays a clean report."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def unit_rows(array: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as contiguous float32."""
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / norms, dtype=np.float32)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run Faiss on a single thread inside the block."""
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(ALL_THREADS)


def timed_add(index: faiss.Index, vectors: np.ndarray, chunk: int = 100_000) -> float:
    """Add ``vectors`` to ``index`` using all threads; the seconds it took.

    Large sets are added in chunks so that progress can be logged.
    """
    faiss.omp_set_num_threads(ALL_THREADS)
    start = time.perf_counter()
    for first in range(0, len(vectors), chunk):
        index.add(vectors[first : first + chunk])
        if len(vectors) > chunk:
            elapsed = time.perf_counter() - start
            log(f"added {index.ntotal:,} of {len(vectors):,} vectors in {elapsed:,.0f} s")
    return time.perf_counter() - start


def exact_search(exact: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (scores, ids) of ``queries``, in batches, on all threads."""
    faiss.omp_set_num_threads(ALL_THREADS)
    parts = [
        exact.search(queries[start : start + GROUND_TRUTH_BATCH], K)
        for start in range(0, len(queries), GROUND_TRUTH_BATCH)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def make_dataset(
    name: str, base: np.ndarray, queries: np.ndarray, text_start: int | None = None
) -> tuple[Dataset, str]:
    """Index ``base`` exactly (IndexFlatIP) and find the true top-k of ``queries``.

    Also returns a note on how close the true neighbours are (a hint of difficulty).
    """
    log(f"{name}: exact index and ground truth for {len(queries)} queries")
    exact = faiss.IndexFlatIP(base.shape[1])
    build_s = timed_add(exact, base)
    scores, truth = exact_search(exact, queries)
    note = (
        f"{name}: mean inner product of query and true 1st / {K}th neighbour: "
        f"{scores[:, 0].mean():.3f} / {scores[:, -1].mean():.3f}."
    )
    return Dataset(name, base, queries, truth, exact, build_s, text_start), note


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the true top-k that the index returned."""
    hits = sum(len(np.intersect1d(f, t)) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def latencies_ms(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-query wall and CPU milliseconds, one query at a time on one thread, after a warm-up.

    CPU time (of this thread) leaves out time spent preempted by other processes, so it
    stays meaningful on a busy machine where the wall-clock tail is noisy.
    """
    wall, cpu = np.empty(len(queries)), np.empty(len(queries))
    with one_thread():
        for query in queries[-WARMUP_QUERIES:]:
            index.search(query[None, :], K)
        for position, query in enumerate(queries):
            wall_start, cpu_start = time.perf_counter(), time.thread_time()
            index.search(query[None, :], K)
            cpu[position] = time.thread_time() - cpu_start
            wall[position] = time.perf_counter() - wall_start
    return wall * 1000, cpu * 1000


def hnsw_params(index: faiss.Index) -> tuple[int | None, int | None, int | None]:
    """(M, efConstruction, efSearch) of an HNSW index, else Nones."""
    if not isinstance(index, faiss.IndexHNSW):
        return None, None, None
    hnsw = index.hnsw
    m = hnsw.nb_neighbors(1)  # type: ignore[attr-defined]  # missing from faiss's stubs
    return int(m), hnsw.efConstruction, hnsw.efSearch


def measure(
    data: Dataset, variant: str, index: faiss.Index, build_s: float, timed: int | None = None
) -> Row:
    """Recall (one batched search) and single-query latency (first ``timed`` queries)."""
    log(f"{data.name}: measuring {variant}")
    faiss.omp_set_num_threads(ALL_THREADS)
    found = index.search(data.queries, K)[1]
    start = data.text_start
    text_recall = None if start is None else recall_at_k(found[start:], data.truth[start:])
    wall, cpu = latencies_ms(index, data.queries[:timed])
    m, ef_construction, ef_search = hnsw_params(index)
    return Row(
        dataset=data.name,
        variant=variant,
        build_s=build_s,
        index_bytes=faiss.serialize_index(index).size,
        count=index.ntotal,
        dim=index.d,
        recall=recall_at_k(found, data.truth),
        text_recall=text_recall,
        p50_ms=p50(wall),
        p99_ms=p99(wall),
        p50_cpu_ms=p50(cpu),
        p99_cpu_ms=p99(cpu),
        timed_queries=len(wall),
        m=m,
        ef_construction=ef_construction,
        ef_search=ef_search,
    )


def build_and_measure(data: Dataset, variant: str, index: faiss.Index) -> Row:
    """Add the base vectors to an empty index, then measure it."""
    log(f"{data.name}: building {variant}")
    return measure(data, variant, index, timed_add(index, data.base))


def catalog_vectors(path: Path) -> tuple[np.ndarray, OnnxEmbedder]:
    """The catalog's document vectors, through the app's on-disk embedding cache."""
    catalog = load_catalog(str(path))
    embedder = OnnxEmbedder()
    texts = [document_text(movie) for movie in catalog.movies]
    log(f"catalog: {len(texts)} movies; embedding those not in the cache")
    vectors = embed_documents_cached(embedder, texts, embedding_cache(Settings()))
    return vectors, embedder


def noisy_queries(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Random catalog vectors plus Gaussian noise of norm about CATALOG_QUERY_NOISE."""
    rows = rng.choice(len(vectors), size=min(count, len(vectors)), replace=False)
    dim = vectors.shape[1]
    noise = rng.standard_normal((len(rows), dim), dtype=np.float32)
    return unit_rows(vectors[rows] + noise * (CATALOG_QUERY_NOISE / np.sqrt(dim)))


def bench_catalog(path: Path, rng: np.random.Generator) -> tuple[list[Row], list[str]]:
    """Prototype, our default, our HNSW and exact search on the real catalog."""
    base, embedder = catalog_vectors(path)
    noisy = noisy_queries(base, CATALOG_NOISY_QUERIES, rng)
    texts = np.stack([embedder.embed_query(text) for text in TEXT_QUERIES])
    count, dim = base.shape
    data, note = make_dataset(
        f"catalog ({count:,} x {dim})", base, np.concatenate([noisy, texts]), len(noisy)
    )
    default_kind = index_kind(count, IndexParams())
    prototype = faiss.IndexHNSWFlat(dim, count)
    rows = [
        build_and_measure(data, "(a) prototype IndexHNSWFlat(d, n), L2", prototype),
        build_and_measure(
            data,
            f"(b) default new_faiss_index -> {default_kind}",
            new_faiss_index(dim, count, IndexParams()),
        ),
        build_and_measure(data, "(b) HNSW, IP", new_faiss_index(dim, count, OUR_HNSW)),
        measure(data, "(c) exact IndexFlatIP", data.exact, data.exact_build_s),
    ]
    notes = [
        f"Catalog queries: {len(noisy):,} catalog vectors plus Gaussian noise of norm "
        f"{CATALOG_QUERY_NOISE}, renormalized, and {len(texts)} text queries (embed_query).",
        f"Catalog default: new_faiss_index picked `{default_kind}` (exact search) for "
        f"{count:,} vectors (exact_max_vectors = {IndexParams().exact_max_vectors:,}).",
        "Catalog prototype: L2 metric on unit vectors ranks like inner product; "
        "efConstruction and efSearch are Faiss's defaults.",
        note,
    ]
    return rows, notes


def noise_scales(dim: int) -> np.ndarray:
    """Per-dimension noise std: variance falls as 1/rank, total norm SYNTHETIC_SPREAD.

    A decaying spectrum gives each cluster a low intrinsic dimension, as real text
    embeddings have; isotropic noise in 384 dimensions would be unrealistically hard.
    """
    variances = 1.0 / np.arange(1, dim + 1)
    return np.asarray(np.sqrt(variances / variances.sum()) * SYNTHETIC_SPREAD, np.float32)


def clustered_vectors(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around SYNTHETIC_CLUSTERS random unit centres, built in chunks."""
    centres = unit_rows(rng.standard_normal((SYNTHETIC_CLUSTERS, dim), dtype=np.float32))
    scales = noise_scales(dim)
    vectors = np.empty((count, dim), np.float32)
    for start in range(0, count, 100_000):
        size = min(100_000, count - start)
        labels = rng.integers(SYNTHETIC_CLUSTERS, size=size)
        noise = rng.standard_normal((size, dim), dtype=np.float32) * scales
        vectors[start : start + size] = unit_rows(centres[labels] + noise)
    return vectors


def bench_synthetic(
    count: int, dim: int, ef_construction: int, rng: np.random.Generator
) -> tuple[list[Row], list[str]]:
    """Our HNSW at several efSearch values, and exact search, on clustered vectors."""
    name = f"synthetic ({count:,} x {dim})"
    log(f"{name}: generating vectors")
    vectors = clustered_vectors(count + SYNTHETIC_QUERIES, dim, rng)
    data, note = make_dataset(name, vectors[:count], vectors[count:])
    params = IndexParams(OUR_HNSW.hnsw_m, ef_construction, OUR_HNSW.ef_search, 0)
    index = new_faiss_index(dim, count, params)
    assert isinstance(index, faiss.IndexHNSW)
    log(f"{name}: building HNSW M={params.hnsw_m} efConstruction={ef_construction}")
    build_s = timed_add(index, data.base)
    rows = []
    for ef_search in SYNTHETIC_EF_SEARCH:
        index.hnsw.efSearch = ef_search
        rows.append(measure(data, "(b) HNSW, IP", index, build_s))
    exact_row = measure(
        data, "(c) exact IndexFlatIP", data.exact, data.exact_build_s, EXACT_TIMED_QUERIES
    )
    notes = [
        f"Synthetic: {SYNTHETIC_CLUSTERS:,} random unit centres, within-cluster noise of norm "
        f"{SYNTHETIC_SPREAD} with variance falling as 1/rank, renormalized; "
        f"{SYNTHETIC_QUERIES:,} queries drawn from the same distribution (not in the base).",
        "Synthetic: (a) prototype skipped: IndexHNSWFlat(d, n) means M = n, "
        f"{count:,} links per vector per level, which is not buildable.",
        f"Synthetic: exact search latency timed on the first {EXACT_TIMED_QUERIES} queries; "
        "its recall is 1 by definition.",
        note,
    ]
    return [*rows, exact_row], notes


def cell(value: float | int | None, digits: int = 3) -> str:
    """A table cell: '-' for None, thousands separators for ints."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def results_table(rows: list[Row]) -> list[str]:
    """The markdown table, one line per row."""
    columns = (
        "dataset | variant | build s | index bytes | bytes/vector | recall@10 | recall@10 text"
        " | p50 ms | p99 ms | p50 CPU ms | p99 CPU ms | timed queries | M | efConstruction"
        " | efSearch"
    )
    return table(columns, [cells(row) for row in rows], left=2)


def cells(row: Row) -> list[str]:
    """One (dataset, variant) as a row of the table."""
    return [
        row.dataset,
        row.variant,
        cell(row.build_s, 2),
        cell(row.index_bytes),
        cell(row.bytes_per_vector, 1),
        cell(row.recall, 4),
        cell(row.text_recall, 4),
        cell(row.p50_ms),
        cell(row.p99_ms),
        cell(row.p50_cpu_ms),
        cell(row.p99_cpu_ms),
        cell(row.timed_queries),
        cell(row.m),
        cell(row.ef_construction),
        cell(row.ef_search),
    ]


def memory_checks(rows: list[Row]) -> list[str]:
    """Bytes per vector of each HNSW build against MEMORY_SLACK x (4d + 8M)."""
    lines, seen = [], set()
    for row in rows:
        key = (row.dataset, row.variant, row.m, row.ef_construction)
        if row.m is None or key in seen:
            continue
        seen.add(key)
        limit = MEMORY_SLACK * (4 * row.dim + 8 * row.m)
        verdict = "PASS" if row.bytes_per_vector <= limit else "FAIL"
        lines.append(
            f"- Memory, {row.dataset} {row.variant} M={row.m}: {row.bytes_per_vector:,.1f} "
            f"bytes/vector vs limit {MEMORY_SLACK} x (4*{row.dim} + 8*{row.m}) = {limit:,.1f}: "
            f"{verdict}"
        )
    return lines


def catalog_check(rows: list[Row]) -> list[str]:
    """Whether our default reaches the catalog recall target."""
    return [
        f"- Catalog default recall@10 >= {TARGET_CATALOG_RECALL}: {row.recall:.4f}: "
        + ("PASS" if row.recall >= TARGET_CATALOG_RECALL else "FAIL")
        for row in rows
        if row.variant.startswith("(b) default")
    ]


def synthetic_check(rows: list[Row]) -> list[str]:
    """The efSearch values that reach the synthetic recall and p99 targets."""
    hnsw = [r for r in rows if r.dataset.startswith("synthetic") and r.m is not None]
    if not hnsw:
        return []
    lines = []
    for clock, tail in (("wall-clock", "p99_ms"), ("CPU-time", "p99_cpu_ms")):
        good = [r for r in hnsw if r.recall >= TARGET_RECALL and getattr(r, tail) <= TARGET_P99_MS]
        found = ", ".join(f"efSearch={r.ef_search}" for r in good) or "none"
        lines.append(
            f"- Synthetic recall@10 >= {TARGET_RECALL} with single-query {clock} p99 <= "
            f"{TARGET_P99_MS} ms on one core: {found}: {'PASS' if good else 'FAIL'}"
        )
    return lines


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def environment(load_at_start: str) -> list[str]:
    """Versions, cores and load, so timings can be read in context."""
    return [
        f"- faiss {faiss.__version__}, numpy {np.__version__}, Python {platform.python_version()}",
        f"- {os.cpu_count()} CPUs; builds and ground truth on {ALL_THREADS} threads, "
        "latency on 1 thread (CPU ms: this thread's CPU time, not counting preemption)",
        f"- load average (1, 5, 15 min) at start: {load_at_start}; at end: {load_average()}",
    ]


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=FULL_CATALOG)
    parser.add_argument("--synthetic-n", type=int, default=1_000_000)
    parser.add_argument("--synthetic-dim", type=int, default=384)
    parser.add_argument("--synthetic-ef-construction", type=int, default=200)
    parser.add_argument("--skip-synthetic", action="store_true")
    return parser.parse_args()


def main() -> None:
    """Run the benchmarks and print the report."""
    args = parse_args()
    started, load_at_start = time.perf_counter(), load_average()
    rng = np.random.default_rng(SEED)
    rows: list[Row] = []
    notes: list[str] = []
    if args.catalog.is_file():
        catalog_rows, catalog_notes = bench_catalog(args.catalog, rng)
        rows += catalog_rows
        notes += catalog_notes
    else:
        notes.append(f"Catalog skipped: {args.catalog} not found.")
    if args.skip_synthetic:
        notes.append("Synthetic skipped (--skip-synthetic).")
    else:
        synthetic_rows, synthetic_notes = bench_synthetic(
            args.synthetic_n, args.synthetic_dim, args.synthetic_ef_construction, rng
        )
        rows += synthetic_rows
        notes += synthetic_notes
    report = [
        "# Index benchmark",
        "",
        *environment(load_at_start),
        "",
        *results_table(rows),
        "",
        *(f"- {note}" for note in notes),
        "",
        "## Targets",
        "",
        *catalog_check(rows),
        *synthetic_check(rows),
        *memory_checks(rows),
        "",
        f"Total run time: {time.perf_counter() - started:,.0f} s",
    ]
    print("\n".join(report))


if __name__ == "__main__":
    main()
