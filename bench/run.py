"""`make bench`: the round on fixed instances, 2 workers, several seeds; one CSV row per run.

Each run is a method on a case: the planner (``cpsat``) and its peers (``lp``, the round's flow
LP in HiGHS; ``fcfs``, first come, first served; bench/peers.py), each in its own process
(bench/case.py), so time and peak memory are the run's own.

Rows are appended to bench/results/results.csv and a run already recorded for the same case,
method, seed, time limit and git commit is skipped, so an interrupted benchmark resumes (a row
written before methods existed counts as ``cpsat``).

Usage: python bench/run.py [CASE | CASE:METHOD ...]   e.g. ``region5``, ``region10:lp``.
With no argument every case and method runs. Progress plots: bench/results/progress-*.png.
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

#: (case, method, seeds, time limit). The peers are deterministic: one seed; the LP's limit caps
#: HiGHS. Bergen and demand 115% run five seeds: runs of one seed differ by more than most
#: changes do (Bergen seed 1 kept 92.8% and 99.1% of families' shares on the same code).
CASES: list[tuple[str, str, list[int], float]] = [
    ("bergen", "cpsat", [1, 2, 3, 4, 5], 300.0),
    ("bergen", "lp", [1], 600.0),
    ("bergen", "fcfs", [1], 600.0),
    ("demand115", "cpsat", [1, 2, 3, 4, 5], 300.0),
    ("region5", "cpsat", [1], 300.0),
    ("region5", "lp", [1], 600.0),
    ("region5", "fcfs", [1], 600.0),
    ("region10", "cpsat", [1], 600.0),
    ("region10", "lp", [1], 1800.0),
    ("region10", "fcfs", [1], 600.0),
]


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"


def method_of(row: dict[str, str]) -> str:
    """A row's method as CASES names it (``cpsat-decomposed`` → ``cpsat``)."""
    return (row.get("method") or "cpsat").split("-")[0]


def done(rev: str) -> set[tuple[str, str, str, str, str]]:
    if not RESULTS.exists():
        return set()
    with RESULTS.open() as fh:
        return {
            (r["case"], method_of(r), r["seed"], r["time_limit"], r["commit"])
            for r in csv.DictReader(fh)
        }


def selected(case: str, method: str, only: set[str]) -> bool:
    return not only or case in only or f"{case}:{method}" in only


def append(row: dict[str, object]) -> None:
    """Append a row; when it has columns the file lacks, rewrite the file with the union
    (older rows get empty cells) so that no column is lost."""
    fields = list(row)
    old_rows: list[dict[str, str]] = []
    if RESULTS.exists():
        with RESULTS.open() as fh:
            reader = csv.DictReader(fh)
            old_fields = list(reader.fieldnames or [])
            if not set(fields) <= set(old_fields):
                old_rows = list(reader)
        if set(fields) <= set(old_fields):
            with RESULTS.open("a", newline="") as fh:
                csv.DictWriter(fh, fieldnames=old_fields, restval="").writerow(row)
            return
        fields = old_fields + [k for k in fields if k not in old_fields]
    tmp = RESULTS.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(old_rows)
        writer.writerow(row)
    tmp.replace(RESULTS)


def main() -> None:
    only = set(sys.argv[1:])
    known = {c for c, *_ in CASES} | {f"{c}:{m}" for c, m, *_ in CASES}
    if only - known:
        raise SystemExit(
            f"unknown case or case:method {sorted(only - known)}; known: {sorted(known)}"
        )
    rev = commit()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    seen = done(rev)
    for case, method, seeds, limit in CASES:
        if not selected(case, method, only):
            continue
        for seed in seeds:
            key = (case, method, str(seed), str(limit), rev)
            if key in seen:
                print(f"skip {case} {method} seed {seed} (already recorded for {rev})")
                continue
            print(f"run {case} {method} seed {seed} limit {limit:g} s", flush=True)
            proc = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "case.py"),
                    case,
                    str(seed),
                    str(limit),
                    method,
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            if proc.returncode != 0:
                print(f"{case} {method} seed {seed} failed:\n{proc.stderr[-2000:]}")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["commit"] = rev
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            append(row)


if __name__ == "__main__":
    main()
