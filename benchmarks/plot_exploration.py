"""Plot hit rate against diversity for each strategy of a `moviebot eval --json` run.

moviebot eval ... --json | tail -1 > eval.json
python benchmarks/plot_exploration.py eval.json docs/exploration.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib.pyplot as plt

REFERENCES = ("prototype", "ema", "default", "popularity", "random")


def plot(report: dict[str, dict[str, dict[str, float]]], out: Path) -> None:
    """Draw one point per strategy; exploration strategies joined by strength."""
    strategies = report["strategies"]
    figure, axes = plt.subplots(figsize=(7, 5))
    for family in ("gaussian", "bucket", "angle"):
        names = sorted(name for name in strategies if name.startswith(f"explore-{family}-"))
        points = [("default", strategies["default"])] + [(n, strategies[n]) for n in names]
        axes.plot(
            [s["diversity"] for _, s in points],
            [s["hr10"] for _, s in points],
            marker="o",
            label=f"explore {family}: default, then strength 0.3 and 0.6",
        )
    for name in REFERENCES:
        scores = strategies[name]
        axes.scatter(scores["diversity"], scores["hr10"], marker="x", color="black")
        axes.annotate(name, (scores["diversity"], scores["hr10"]), fontsize=8, xytext=(4, 4),
                      textcoords="offset points")  # fmt: skip
    axes.set_xlabel("intra-list diversity (mean pairwise cosine distance)")
    axes.set_ylabel("HR@10")
    axes.set_title(f"{report['users']} MovieLens users, {report['events']} predictions")
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out, dpi=120)


if __name__ == "__main__":
    plot(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
