"""`python bench/acute.py [PLAN_DIR]`: acute requests on the Bergen plan, timed (issue 6).

Issue 6: "An acute request on the Bergen plan answers in under 2 s when reserved places have
room and under 10 s when other families' nights must move; report both, and the nights moved."

Without PLAN_DIR the Bergen round is planned first (60 s, or ``$BENCH_ACUTE_PLAN_SECONDS``;
seed 1; into out/bench-acute/plan, reused when it is there). Three requests of five nights:

* ``reserve``: category 4 from the round's 61st night: Vestlund and Omsorgshjelperen keep a
  place for acute stays;
* ``moves``: category 5 in the same window once earlier acute stays (committed first) have used
  the reserved places of Hølbekken and Omsorgshjelperen: other families' nights move to other
  houses;
* ``moves-P``: category P (only Olav Bjordalsvei, which keeps no reserve) in the first window
  from the 31st night on where the house is full on some night: no other house takes those
  families, so nights are taken out (to re-plan with the family).

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
from dataclasses import dataclass
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
    "earlier_acute_stays",
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
        return Path(sys.argv[1]).resolve()
    if not (PLAN / "bookings.csv").is_file():
        seconds = os.environ.get("BENCH_ACUTE_PLAN_SECONDS", "60")
        print(f"Planning Bergen ({seconds} s) into {PLAN} ...", file=sys.stderr)
        subprocess.run(
            _allocator("plan", INPUT, "--out", PLAN, "--time-limit", seconds, "--seed", "1"),
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return PLAN


def acute_child(inp: RoundInput, category: str, child_id: str) -> Child:
    return Child.model_validate(
        {
            "child_id": child_id,
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


def _acute_args(child_id: str, category: str, first: dt.date, today: dt.date) -> list[str]:
    last = first + dt.timedelta(days=NIGHTS - 1)
    return [
        "acute",
        child_id,
        "--category",
        category,
        "--age",
        "14",
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
        "--today",
        today.isoformat(),
    ]


def cli_run(plan: Path, inp: RoundInput, case: Case, earlier: list[str]) -> tuple[float, float]:
    """``allocator acute --dry-run`` on a store holding the plan (and the `earlier` acute stays,
    committed with ``--yes`` first): wall seconds, peak RSS (MB)."""
    today = inp.config.start
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ALLOCATOR_DB": f"sqlite:///{tmp}/store.db"}
        quiet = {"cwd": tmp, "env": env, "stdout": subprocess.DEVNULL}
        subprocess.run(_allocator("publish", INPUT, plan, "--who", "bench"), check=True, **quiet)
        for child_id in earlier:
            args = _acute_args(child_id, case.category, case.first, today)
            subprocess.run(_allocator(*args, "--yes"), check=True, **quiet)
        started = time.perf_counter()
        args = _acute_args(f"AKUTT{case.label}", case.category, case.first, today)
        proc = subprocess.Popen(_allocator(*args, "--dry-run"), **quiet)
        # wait4: this command's own peak RSS, not that of the commands before it.
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"allocator acute failed (exit {os.waitstatus_to_exitcode(status)})")
    return seconds, usage.ru_maxrss / 1024


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


@dataclass(frozen=True)
class Case:
    label: str
    category: str
    first: dt.date


def fill_reserve(
    inp: RoundInput, plan: list[Booking], case: Case
) -> tuple[list[Booking], list[str], list[Child]]:
    """Place acute stays of `case`'s category and window until the next one no longer fits a
    reserved or free place: the plan with them, their ids and children."""
    earlier: list[str] = []
    children: list[Child] = []
    for i in range(20):
        child = acute_child(inp, case.category, f"AKUTT{case.label}{i}")
        last = case.first + dt.timedelta(days=NIGHTS - 1)
        result = place_acute(inp, plan, child, case.first, last, today=inp.config.start)
        if not isinstance(result, AcuteProposal) or not result.used_reserve:
            return plan, earlier, children
        plan = list(result.bookings)
        earlier.append(child.child_id)
        children.append(child)
    raise SystemExit(f"{case.label}: still room after 20 acute stays")


def main() -> None:
    inp = read_round(INPUT)
    plan_path = plan_dir()
    published = read_bookings(plan_path)
    start = inp.config.start
    cases = [
        # A reserved place has room.
        Case("reserve", "4", start + dt.timedelta(days=60)),
        # Category 5 after the reserves of that window are used by earlier acute stays: other
        # families' nights move to other houses.
        Case("moves", "5", start + dt.timedelta(days=60)),
        # Category P: only Olav Bjordalsvei (no reserve) takes it; where it is full, a night
        # must be taken out (no other house takes the family either).
        Case(
            "moves-P",
            "P",
            full_window(inp, published, "olav-bjordalsvei", start + dt.timedelta(days=30)),
        ),
    ]
    rows = []
    for case in cases:
        plan, earlier, others = published, [], []
        if case.label == "moves":
            plan, earlier, others = fill_reserve(inp, published, case)
        child = acute_child(inp, case.category, f"AKUTT{case.label}")
        last = case.first + dt.timedelta(days=NIGHTS - 1)
        times = []
        result = None
        for _ in range(REPEATS):
            result = place_acute(inp, plan, child, case.first, last, today=start)
            if not isinstance(result, AcuteProposal):
                raise SystemExit(f"{case.label}: refused: {result.reason}")
            times.append(result.seconds)
        assert isinstance(result, AcuteProposal)
        violations = check_plan(inp.with_children([*others, child]), list(result.bookings))
        cli_seconds, cli_rss = cli_run(plan_path, inp, case, earlier)
        row = {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "commit": commit(),
            "case": case.label,
            "category": case.category,
            "first_night": case.first.isoformat(),
            "earlier_acute_stays": len(earlier),
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
