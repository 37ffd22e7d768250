"""Sweep benchmark: the shipped sweep with 1 process, 2 processes and a local Dask cluster of 2
workers; wall time and runs per minute, one CSV row per setting in bench/results/sweep.csv.

    .venv/bin/python bench/sweep.py                       # scenarios/sweep.toml at 60 s
    .venv/bin/python bench/sweep.py --scenarios 2 --seeds 1 --time-limit 10   # a quick check

Each setting runs the whole sweep from scratch (its own folder under out/bench-sweep/, emptied
first) through the CLI, as an analyst would. A setting already recorded for the same commit,
sweep and time limit is skipped, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "sweep.csv"
WORK = ROOT / "out" / "bench-sweep"

SETTINGS: dict[str, list[str]] = {
    "1-process": ["--processes", "1"],
    "2-processes": ["--processes", "2"],
    "dask-local-2": ["--dask", "local", "--processes", "2"],
}
FIELDS = [
    "date",
    "commit",
    "sweep",
    "scenarios",
    "seeds",
    "runs",
    "time_limit",
    "setting",
    "processes",
    "cores",
    "wall_time",
    "runs_per_minute",
    "speedup",
    "ok_runs",
    "mean_fulfilment",
    "exit_code",
]


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def reduced_spec(spec: Path, scenarios: int | None, seeds: list[int] | None) -> Path:
    """The sweep file, cut to its first ``scenarios`` files and to ``seeds``, written to
    out/bench-sweep/ with absolute paths (the original is left alone)."""
    data = tomllib.loads(spec.read_text(encoding="utf-8"))
    files = [str((spec.parent / f).resolve()) for f in data.get("scenarios", [])]
    data["scenarios"] = files[:scenarios] if scenarios else files
    if "grid" in data:
        data["grid"]["scenario"] = str((spec.parent / data["grid"]["scenario"]).resolve())
    if seeds:
        data["seeds"] = seeds
    data["name"] = f"{data.get('name', spec.stem)}-bench"
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{spec.stem}-bench.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def recorded() -> set[tuple[str, str, str, str, str]]:
    if not RESULTS.exists():
        return set()
    with RESULTS.open(newline="") as fh:
        return {
            (r["commit"], r["sweep"], r["runs"], r["time_limit"], r["setting"])
            for r in csv.DictReader(fh)
        }


def table_figures(folder: Path) -> tuple[int, str]:
    """Runs with a checked plan and their mean fulfilment, from the sweep's results.csv."""
    path = folder / "results.csv"
    if not path.exists():
        return 0, ""
    with path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] in ("OPTIMAL", "FEASIBLE")]
    values = [float(r["fulfilment"]) for r in rows if r.get("fulfilment")]
    return len(rows), f"{sum(values) / len(values):.4f}" if values else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "scenarios" / "sweep.toml")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--scenarios", type=int, default=None, help="first N scenarios only")
    parser.add_argument("--seeds", type=str, default=None, help="e.g. 1,2")
    parser.add_argument("--settings", type=str, default=",".join(SETTINGS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    spec = reduced_spec(args.spec, args.scenarios, seeds)
    data = tomllib.loads(spec.read_text(encoding="utf-8"))
    runs = len(data["scenarios"]) * len(data["seeds"]) + (
        len(data["grid"]["values"]) * len(data["seeds"]) if "grid" in data else 0
    )
    rev = commit()
    done = recorded()
    base_wall: float | None = None
    for setting in args.settings.split(","):
        key = (rev, data["name"], str(runs), f"{args.time_limit:g}", setting)
        if key in done:
            print(f"skip {setting} (recorded for {rev})")
            continue
        folder = WORK / setting
        shutil.rmtree(folder, ignore_errors=True)  # a benchmark must not resume
        cmd = [sys.executable, "-m", "allocator.cli", "scenario", "sweep", str(spec)]
        cmd += ["--out", str(folder), "--time-limit", f"{args.time_limit:g}"]
        cmd += SETTINGS[setting]
        print(" ".join(cmd), flush=True)
        started = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.monotonic() - started
        ok, fulfilment = table_figures(folder)
        if setting == "1-process":
            base_wall = wall
        processes = SETTINGS[setting][SETTINGS[setting].index("--processes") + 1]
        row = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": rev,
            "sweep": data["name"],
            "scenarios": len(data["scenarios"]),
            "seeds": len(data["seeds"]),
            "runs": runs,
            "time_limit": f"{args.time_limit:g}",
            "setting": setting,
            "processes": processes,
            "cores": os.cpu_count() or 1,
            "wall_time": f"{wall:.1f}",
            "runs_per_minute": f"{runs / wall * 60:.2f}",
            "speedup": f"{base_wall / wall:.2f}" if base_wall else "",
            "ok_runs": ok,
            "mean_fulfilment": fulfilment,
            "exit_code": proc.returncode,
        }
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        new_file = not RESULTS.exists()
        with RESULTS.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            if new_file:
                writer.writeheader()
            writer.writerow(row)


if __name__ == "__main__":
    main()
