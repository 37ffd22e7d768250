"""Run one benchmark case in its own process and print one JSON line of figures.

Usage: python bench/case.py CASE SEED TIME_LIMIT
Cases: bergen (the shipped data), demand115 (Bergen's houses, 115% demand), region5 (5x Bergen).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from allocator.check import check_plan, compute_figures
from allocator.generate import generate_round
from allocator.io.reader import read_round
from allocator.pipeline import plan_round
from allocator.solve import SolveParams
from models.round_input import RoundInput

ROOT = Path(__file__).resolve().parents[1]


def load(case: str) -> RoundInput:
    if case == "bergen":
        return read_round(ROOT / "data" / "bergen")
    if case == "demand115":
        return generate_round(scale=1, seed=1, demand=1.15)
    if case == "region5":
        return generate_round(scale=5, seed=1, demand=1.0)
    raise SystemExit(f"unknown case {case!r}")


def main() -> None:
    case, seed, time_limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    inp = load(case)
    started = time.monotonic()
    outcome = plan_round(inp, SolveParams(time_limit=time_limit, seed=seed, workers=2))
    wall = time.monotonic() - started
    r = outcome.result
    f = compute_figures(inp, r.bookings)
    violations = check_plan(inp, r.bookings)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "case": case,
                "seed": seed,
                "time_limit": time_limit,
                "children": len(inp.children),
                "status": str(r.status),
                "wall_s": round(wall, 1),
                "granted": f.granted,
                "allocated": f.allocated,
                "bound": f.bound,
                "gap_to_bound": round(f.gap_to_bound, 5),
                "fulfilment": round(f.fulfilment, 4),
                "lowest_child": round(f.lowest_child_fulfilment, 4),
                "p10_child": round(f.p10_child_fulfilment, 4),
                "single_share": round(f.single_night_share, 4),
                "house_switches": f.house_switches,
                "switch_share": round(f.house_switch_share, 4),
                "weekend_share": round(f.weekend_family_weekend_share, 4),
                "fair_share_ok": round(f.fair_share_within_tolerance, 4),
                "steady_rhythm": round(f.steady_rhythm_share, 4),
                "wants_met": f"{f.want_wishes_allowed_met}/{f.want_wishes_allowed}",
                "avoid_broken": f.avoid_nights_broken,
                "cp_sat_gap": round(r.gap, 5),
                "violations": len(violations),
                "peak_mb": round(peak_mb),
            }
        )
    )


if __name__ == "__main__":
    main()
