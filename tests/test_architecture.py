"""House rules that the import graph must keep (see GUIDE.md, rule 1)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAT_AND_SCHEDULER = {"telegram", "discord", "apscheduler", "aiohttp", "typer", "bot", "adapters"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_chat_library_scheduler_or_outer_layer() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & CHAT_AND_SCHEDULER)
        for path in (ROOT / "core").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_redis_store_imports_redis() -> None:
    importers = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if "redis" in imported_roots(path)
    }
    assert all(path.startswith("core/stores/redis/") for path in importers)


def test_the_walker_sees_imports() -> None:
    assert {"faiss", "core"} <= imported_roots(ROOT / "core" / "index.py")


def test_each_door_imports_only_its_own_chat_library() -> None:
    others = {"telegram": {"discord"}, "discord": {"telegram"}}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & (others[door] | {"bot"}))
        for door in others
        for path in (ROOT / "adapters" / door).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_store_imports_the_recommender() -> None:
    offenders = set()
    for path in (ROOT / "core" / "stores").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            if any(name.split(".")[:2] == ["core", "recommender"] for name in names):
                offenders.add(str(path.relative_to(ROOT)))
    assert offenders == set()


def test_benchmarks_import_no_test_module_conftest_or_other_benchmark() -> None:
    benchmarks = sorted((ROOT / "benchmarks").glob("*.py"))
    forbidden = {"tests", "conftest"} | {path.stem for path in benchmarks}
    offenders = {path.name: sorted(imported_roots(path) & forbidden) for path in benchmarks}
    assert {name: roots for name, roots in offenders.items() if roots} == {}


def test_the_serving_bot_loads_no_table_or_model_training_library(sample_index_dir: Path) -> None:
    """pandas, pyarrow and PyTorch cost the running bot memory and serve it nothing: the
    catalog snapshot of an index is JSON, and the default model runs on onnxruntime."""
    program = (
        "import sys, asyncio\n"
        "import bot.cli\n"
        "from bot.app import open_recommender\n"
        "from bot.config import Settings\n"
        f"recommender = open_recommender(Settings(), {str(sample_index_dir)!r})\n"
        "asyncio.run(recommender.search('die hard', 5))\n"
        "print(sorted({name.split('.')[0] for name in sys.modules}))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT
    )
    modules = set(ast.literal_eval(loaded.stdout.strip().splitlines()[-1]))
    assert "onnxruntime" in modules
    assert modules & {"pandas", "pyarrow", "fsspec", "torch", "sentence_transformers"} == set()
