"""Plot the best objective over time of a benchmark case, one line or marker per method.

Usage: python bench/plot.py [RESULTS_DIR]  (re-draws every progress-CASE-SEED.png there)

Reads bench/results/trace-CASE-SEED-METHOD.csv (written by bench/case.py) and writes
progress-CASE-SEED.png. Only points whose objective is the whole round's are drawn (column
``round``; a sub-problem's objective is not comparable). The y axis is the objective minus the
best objective in the plot (lower is better, symmetric log scale), so the planner's last small
improvements stay visible next to the peers' far worse plans.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TRACE = re.compile(r"trace-(?P<case>.+)-(?P<seed>\d+)-(?P<method>[a-z0-9]+)\.csv")


def read_trace(path: Path) -> list[tuple[float, float]]:
    """(elapsed, objective) of the round-level points, in time order."""
    with path.open() as fh:
        rows = [
            (float(r["elapsed"]), float(r["objective"]))
            for r in csv.DictReader(fh)
            if r.get("round", "1") == "1"
        ]
    return sorted(rows)


def best_so_far(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    best = float("inf")
    for t, value in points:
        best = min(best, value)
        out.append((t, best))
    return out


def plot_progress(case: str, seed: int, results_dir: Path) -> Path | None:
    """Draw progress-CASE-SEED.png from the case's trace files; None when there are none."""
    traces: dict[str, list[tuple[float, float]]] = {}
    for path in sorted(results_dir.glob(f"trace-{case}-{seed}-*.csv")):
        match = TRACE.fullmatch(path.name)
        if match is None or match["case"] != case:
            continue
        points = read_trace(path)
        if points:
            traces[match["method"]] = best_so_far(points)
    if not traces:
        return None
    best = min(v for pts in traces.values() for _, v in pts)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for method, pts in sorted(traces.items()):
        xs = [t for t, _ in pts]
        ys = [v - best for _, v in pts]
        if len(pts) == 1:
            ax.plot(xs, ys, "o", label=f"{method} ({pts[0][1]:,.0f})")
        else:
            ax.step(xs, ys, where="post", label=f"{method} ({pts[-1][1]:,.0f})")
    ax.set_yscale("symlog", linthresh=100)
    ax.set_xlabel("seconds")
    ax.set_ylabel("objective − best (lower is better)")
    ax.set_title(f"{case}, seed {seed}: best objective over time")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = results_dir / f"progress-{case}-{seed}.png"
    fig.savefig(out)
    plt.close(fig)
    return out


def main() -> None:
    results_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    cases = set()
    for path in results_dir.glob("trace-*.csv"):
        match = TRACE.fullmatch(path.name)
        if match is not None:
            cases.add((match["case"], int(match["seed"])))
    for case, seed in sorted(cases):
        print(plot_progress(case, seed, results_dir))


if __name__ == "__main__":
    main()
