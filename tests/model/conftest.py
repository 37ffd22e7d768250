"""Solve tiny rounds and check every plan with the independent checker."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allocator.check import check_plan
from allocator.instance import build_instance
from allocator.result import Result
from allocator.solve import SolveParams, solve_round
from models.round_input import RoundInput


def solve_checked(inp: RoundInput, time_limit: float = 10.0) -> Result:
    """Solve with one worker and a fixed seed; fail the test on any hard-rule violation."""
    inst = build_instance(inp)
    result = solve_round(inst, inp.config.weights, SolveParams(time_limit=time_limit, workers=1))
    if result.status.has_plan:
        violations = check_plan(inp, result.bookings)
        assert violations == [], violations
    return result


def nights_per_child(result: Result) -> Counter[str]:
    return Counter(b.child_id for b in result.bookings)
