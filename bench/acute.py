"""`python bench/acute.py [PLAN_DIR]`: acute requests on the Bergen plan, timed (issue 6).

Issue 6: "An acute request on the Bergen plan answers in under 2 s when reserved places have
room and under 10 s when other families' nights must move; report both, and the nights moved."

Without PLAN_DIR the Bergen round is planned first (60 s, seed 1, into out/bench-acute/plan;
reused when it is there). Two requests, each of five nights:

* ``reserve``: category 4, from the round's 61st night: Vestlund and Omsorgshjelperen keep a
  place for acute stays;
* ``moves``: category P (only Olav Bjordalsvei, which keeps no reserve), in the first five-night
  window from the 31st night on where the house is full on some night, so other families'
  nights must move.

Each request is timed three times in this process (`allocator.acute.place_acute`: the answer)
and once end to end as a coordinator runs it (``allocator acute … --dry-run`` on a SQLite store
holding the published plan: start-up, reading the store and the input, the answer, the check).
One JSON line per request, and one CSV row each appended to bench/results/acute.csv: seconds
(median and worst of the three), end-to-end seconds, nights moved, families touched, the
checker's verdict and peak memory (RSS) of this process and of the command.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from allocator.acute import AcuteProposal, full_capacity, place_acute  # noqa: E402
from allocator.check import check_plan  # noqa: E402
from allocator.io.bookings import read_bookings  # noqa: E402
from allocator.io.reader import read_round  # noqa: E402
from models.inputs import Child  # noqa: E402
from models.outputs import Booking  # noqa: E402
from models.round_input import RoundInput  # noqa: E402

INPUT = ROOT / "data" / "bergen"
PLAN = ROOT / "out" / "bench-acute" / "plan"
RESULTS = ROOT / "bench" / "results" / "acute.csv"
NIGHTS = 5
REPEATS = 3
COLUMNS = [
    "when",
    "commit",
    "case",
    "category",
    "first_night",
    "house",
    "used_reserve",
    "seconds_median",
    "seconds_worst",
    "cli_seconds",
    "nights_moved",
    "nights_taken_out",
    "families_touched",
    "violations",
    "peak_rss_mb",
    "cli_peak_rss_mb",
]


def _allocator(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "allocator.cli", *(str(a) for a in args)]


def plan_dir() -> Path:
    """The plan to work on: the argument, else Bergen planned once for 60 s."""
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    if not (PLAN / "bookings.csv").is_file():
        print(f"Planning Bergen (60 s) into {PLAN} ...", file=sys.stderr)
        subprocess.run(
            _allocator("plan", INPUT, "--out", PLAN, "--time-limit", "60", "--seed", "1"),
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return PLAN


def acute_child(inp: RoundInput, category: str) -> Child:
    return Child.model_validate(
        {
            "child_id": f"AKUTT{category}",
            "birth_date": dt.date(2013, 1, 1),
            "category": category,
            "level": 1,
            "granted_nights": 0,
            "vedtak_from": inp.config.start,
            "vedtak_to": inp.config.end,
        }
    )


def full_window(inp: RoundInput, plan: list[Booking], house_id: str, start: dt.date) -> dt.date:
    """The first night from `start` of a window of `NIGHTS` in which `house_id` is full on
    some night (so an acute stay there must move someone)."""
    house = inp.house(house_id)
    load: dict[dt.date, int] = {}
    for b in plan:
        if b.house_id == house_id:
            load[b.night] = load.get(b.night, 0) + 1
    first = start
    while first + dt.timedelta(days=NIGHTS - 1) <= inp.config.end:
        window = [first + dt.timedelta(days=i) for i in range(NIGHTS)]
        if any(load.get(n, 0) >= full_capacity(inp, house, n) for n in window):
            return first
        first += dt.timedelta(days=1)
    raise SystemExit(f"{house_id} is never full: no window where nights must move")


def cli_run(plan: Path, inp: RoundInput, category: str, first: dt.date) -> tuple[float, float]:
    """``allocator acute --dry-run`` on a store holding the plan: wall seconds, peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ALLOCATOR_DB": f"sqlite:///{tmp}/store.db"}
        subprocess.run(
            _allocator("publish", INPUT, plan, "--who", "bench"),
            cwd=tmp,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = time.perf_counter()
        proc = subprocess.Popen(
            _allocator(
                "acute",
                f"AKUTT{category}",
                "--category",
                category,
                "--age",
                "14",
                "--from",
                first.isoformat(),
                "--to",
                (first + dt.timedelta(days=NIGHTS - 1)).isoformat(),
                "--today",
                inp.config.start.isoformat(),
                "--dry-run",
            ),
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        # wait4: this command's own peak RSS, not the publish's before it.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"allocator acute failed (exit {proc.returncode})")
        peak = usage.ru_maxrss
    return seconds, peak / 1024


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> None:
    inp = read_round(INPUT)
    plan_path = plan_dir()
    plan = read_bookings(plan_path)
    cases = [
        ("reserve", "4", inp.config.start + dt.timedelta(days=60)),
        (
            "moves",
            "P",
            full_window(inp, plan, "olav-bjordalsvei", inp.config.start + dt.timedelta(days=30)),
        ),
    ]
    rows = []
    for label, category, first in cases:
        child = acute_child(inp, category)
        last = first + dt.timedelta(days=NIGHTS - 1)
        times = []
        result = None
        for _ in range(REPEATS):
            result = place_acute(inp, plan, child, first, last, today=inp.config.start)
            if not isinstance(result, AcuteProposal):
                raise SystemExit(f"{label}: refused: {result.reason}")
            times.append(result.seconds)
        assert isinstance(result, AcuteProposal)
        violations = check_plan(inp.with_children([child]), list(result.bookings))
        cli_seconds, cli_rss = cli_run(plan_path, inp, category, first)
        row = {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit(),
            "case": label,
            "category": category,
            "first_night": first.isoformat(),
            "house": result.house_id,
            "used_reserve": result.used_reserve,
            "seconds_median": round(statistics.median(times), 3),
            "seconds_worst": round(max(times), 3),
            "cli_seconds": round(cli_seconds, 2),
            "nights_moved": len(result.moves),
            "nights_taken_out": sum(1 for m in result.moves if m.to_house is None),
            "families_touched": result.families_touched,
            "violations": len(violations),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "cli_peak_rss_mb": round(cli_rss, 1),
        }
        print(json.dumps(row))
        rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    new = not RESULTS.exists()
    with RESULTS.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
