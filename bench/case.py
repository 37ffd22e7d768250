"""Run one benchmark case in its own process and print one JSON line of figures.

Usage: python bench/case.py CASE SEED TIME_LIMIT [METHOD]
Cases: bergen (the shipped data), demand115 (Bergen's houses, 115% demand), region5 (5x Bergen),
region10 (10x Bergen).
Methods: cpsat (default: the planner, ``plan_round`` with ``--method auto``), lp (the round's
flow LP solved with HiGHS, rounded and repaired; TIME_LIMIT caps HiGHS), fcfs (first come, first
served); the peers are in bench/peers.py.

Besides the JSON line, the run's progress (elapsed, objective, stage, label of every point the
planner reports; one point for a peer) goes to bench/results/trace-CASE-SEED-METHOD.csv and the
plot of the case's best objective over time, all methods run so far, to
bench/results/progress-CASE-SEED.png.

``objective`` is the round's full objective (lower is better) of the final plan, recomputed for
a peer's plan with `allocator.evaluate.evaluate_terms`, so the methods compare. ``peak_mb`` is the
process's peak memory when the method has finished (input and method); ``peak_mb_total`` also
counts the checker, the figures and the max-flow bound computed afterwards.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import resource
import sys
import time
from pathlib import Path
from typing import Any

from allocator.check import check_plan, compute_figures
from allocator.evaluate import evaluate_terms
from allocator.generate import generate_round
from allocator.instance import build_instance
from allocator.io.reader import read_round
from allocator.pipeline import plan_round
from allocator.result import ProgressPoint
from allocator.solve import SolveParams, bookings_of
from models.outputs import Booking
from models.round_input import RoundInput

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

from peers import fcfs_plan, lp_plan  # noqa: E402
from plot import plot_progress  # noqa: E402

METHODS = ("cpsat", "lp", "fcfs")


def load(case: str) -> RoundInput:
    if case == "bergen":
        return read_round(ROOT / "data" / "bergen")
    if case == "demand115":
        return generate_round(scale=1, seed=1, demand=1.15)
    if case == "region5":
        return generate_round(scale=5, seed=1, demand=1.0)
    if case == "region10":
        return generate_round(scale=10, seed=1, demand=1.0)
    raise SystemExit(f"unknown case {case!r}")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def round_point(point: ProgressPoint) -> bool:
    """Whether the point's objective is the whole round's (not one sub-problem's): the
    decomposed method's fill and search steps, stage 2 of the monolithic method, a peer."""
    if point.label in ("fill", "lns", "final", "lp", "fcfs"):
        return True
    return point.label == "" and point.stage == 2


def run_cpsat(
    inp: RoundInput, seed: int, time_limit: float
) -> tuple[list[Booking], dict[str, Any], list[ProgressPoint]]:
    points: list[ProgressPoint] = []
    started = time.monotonic()

    def record(point: ProgressPoint) -> None:
        # Elapsed from the start of the run (sub-problems count from their own start otherwise).
        points.append(
            ProgressPoint(
                point.stage,
                time.monotonic() - started,
                point.objective,
                point.best_bound,
                point.label,
            )
        )

    outcome = plan_round(
        inp, SolveParams(time_limit=time_limit, seed=seed, workers=2, method="auto"), record
    )
    r = outcome.result
    extra = {
        "method": f"cpsat-{r.method}",
        "status": str(r.status),
        "objective": r.objective,
        "cp_sat_gap": round(r.gap, 5) if not math.isnan(r.gap) else None,
    }
    points.append(ProgressPoint(2, time.monotonic() - started, r.objective, math.nan, "final"))
    return r.bookings, extra, points


def run_peer(
    inp: RoundInput, method: str, time_limit: float
) -> tuple[list[Booking], dict[str, Any], list[ProgressPoint]]:
    started = time.monotonic()
    inst = build_instance(inp)
    if method == "lp":
        peer = lp_plan(inst, time_limit=time_limit)
        status = peer.info.get("lp_status", "")
    else:
        peer = fcfs_plan(inst)
        status = "FEASIBLE"
    elapsed = time.monotonic() - started
    bookings = bookings_of(inst, peer.plan)
    # The round's objective on the planner's own instance (default candidates), as for cpsat.
    scoring = inst if method == "fcfs" else build_instance(inp)
    house_of = {h.house_id: h.idx for h in scoring.houses}
    child_of = {c.child_id: c.idx for c in scoring.children}
    keys = {
        (child_of[b.child_id], house_of[b.house_id], scoring.night_index(b.night)) for b in bookings
    }
    objective = float(sum(evaluate_terms(scoring, inp.config.weights, keys).values()))
    extra = {"method": method, "status": status, "objective": objective, **peer.info}
    return bookings, extra, [ProgressPoint(2, elapsed, objective, math.nan, method)]


def write_trace(path: Path, points: list[ProgressPoint]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["elapsed", "objective", "stage", "label", "round"])
        for p in points:
            writer.writerow(
                [round(p.elapsed, 3), p.objective, p.stage, p.label, int(round_point(p))]
            )


def main() -> None:
    case, seed, time_limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    method = sys.argv[4] if len(sys.argv) > 4 else "cpsat"
    if method not in METHODS:
        raise SystemExit(f"unknown method {method!r} ({', '.join(METHODS)})")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    logging.getLogger("allocator").setLevel(logging.WARNING)
    inp = load(case)
    started = time.monotonic()
    if method == "cpsat":
        bookings, extra, points = run_cpsat(inp, seed, time_limit)
    else:
        bookings, extra, points = run_peer(inp, method, time_limit)
    wall = time.monotonic() - started
    method_peak = peak_mb()
    f = compute_figures(inp, bookings)
    violations = check_plan(inp, bookings)
    rules: dict[str, int] = {}
    for v in violations:
        rules[str(v.rule)] = rules.get(str(v.rule), 0) + 1
    write_trace(RESULTS_DIR / f"trace-{case}-{seed}-{method}.csv", points)
    plot_progress(case, seed, RESULTS_DIR)
    booked_children = {b.child_id for b in bookings}
    row: dict[str, Any] = {
        "case": case,
        "seed": seed,
        "time_limit": time_limit,
        "method": extra.pop("method"),
        "children": len(inp.children),
        "status": extra.pop("status"),
        "wall_s": round(wall, 1),
        "objective": extra.pop("objective"),
        "trace_points": len(points),
        "granted": f.granted,
        "allocated": f.allocated,
        "bound": f.bound,
        "gap_to_bound": round(f.gap_to_bound, 5),
        "fulfilment": round(f.fulfilment, 4),
        "lowest_child": round(f.lowest_child_fulfilment, 4),
        "p10_child": round(f.p10_child_fulfilment, 4),
        "children_at_nothing": sum(
            1 for c in inp.children if c.granted_nights > 0 and c.child_id not in booked_children
        ),
        "single_share": round(f.single_night_share, 4),
        "house_switches": f.house_switches,
        "switch_share": round(f.house_switch_share, 4),
        "weekend_share": round(f.weekend_family_weekend_share, 4),
        "weekend_share_unasked": round(f.weekend_family_unwished_weekend_share, 4),
        "fair_share_ok": round(f.fair_share_within_tolerance, 4),
        "fair_share_kept": round(f.fair_share_kept, 4),
        "fair_share_below": f.fair_share_below,
        "steady_rhythm": round(f.steady_rhythm_share, 4),
        "wants_met": f"{f.want_wishes_allowed_met}/{f.want_wishes_allowed}",
        "avoid_broken": f.avoid_nights_broken,
        "cp_sat_gap": extra.pop("cp_sat_gap", None),
        "violations": len(violations),
        "violated_rules": ";".join(f"{k}:{n}" for k, n in sorted(rules.items())),
        "peak_mb": round(method_peak),
        "peak_mb_total": round(peak_mb()),
        "details": json.dumps(extra, sort_keys=True),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
