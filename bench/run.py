"""`make bench`: the round on fixed instances, 2 workers, several seeds; one CSV row per run.

Rows are appended to bench/results/results.csv and a run already recorded for the same case,
seed, time limit and git commit is skipped, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "results.csv"

CASES: list[tuple[str, list[int], float]] = [
    ("bergen", [1, 2, 3], 300.0),
    ("demand115", [1, 2], 300.0),
    ("region5", [1], 120.0),
]


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"


def done(rev: str) -> set[tuple[str, str, str, str]]:
    if not RESULTS.exists():
        return set()
    with RESULTS.open() as fh:
        return {(r["case"], r["seed"], r["time_limit"], r["commit"]) for r in csv.DictReader(fh)}


def main() -> None:
    only = set(sys.argv[1:])
    rev = commit()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    seen = done(rev)
    rows = []
    for case, seeds, limit in CASES:
        if only and case not in only:
            continue
        for seed in seeds:
            key = (case, str(seed), str(limit), rev)
            if key in seen:
                print(f"skip {case} seed {seed} (already recorded for {rev})")
                continue
            proc = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "case.py"), case, str(seed), str(limit)],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            if proc.returncode != 0:
                print(f"{case} seed {seed} failed:\n{proc.stderr[-2000:]}")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["commit"] = rev
            rows.append(row)
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            new_file = not RESULTS.exists()
            with RESULTS.open("a", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(row))
                if new_file:
                    writer.writeheader()
                writer.writerow(row)


if __name__ == "__main__":
    main()
