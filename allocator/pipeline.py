"""One clear path for a round: read and validate → instance → solve → check → write.

The CLI only parses arguments and calls these functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocator.check import Figures, Violation, check_plan, compute_figures
from allocator.cpsat.variables import Key
from allocator.decompose import polish_plan
from allocator.explain import explain_wishes
from allocator.instance import ChildData, HouseIdx, Instance, NightIdx, build_instance
from allocator.io.atomic import atomic_output_dir, write_csv_rows, write_json
from allocator.io.errors import InputError, Problem
from allocator.report.family import write_family_calendars, write_family_letters
from allocator.report.roster import write_house_rosters
from allocator.report.workbook import write_calendar_workbook
from allocator.result import ProgressPoint, Result
from allocator.solve import ProgressFn, SolveParams, solve_round
from models.outputs import Booking, stays_from_bookings
from models.round_input import RoundInput

log = logging.getLogger(__name__)


@dataclass
class RoundOutcome:
    result: Result
    figures: Figures | None
    violations: list[Violation]


def plan_round(
    inp: RoundInput,
    params: SolveParams,
    on_progress: ProgressFn | None = None,
    *,
    previous: Sequence[Booking] = (),
    balances: Mapping[str, Mapping[str, float]] | None = None,
) -> RoundOutcome:
    """Solve the round and check the plan with the independent checker. ``previous`` is a plan
    to keep close to (``plan --keep``); ``balances`` the families' high-demand balances from
    earlier rounds (the store)."""
    inst = build_instance(inp, previous=previous, balances=balances)
    return _checked(inp, solve_round(inst, inp.config.weights, params, on_progress))


def _checked(inp: RoundInput, result: Result) -> RoundOutcome:
    """The solver's result with the independent checker's violations and figures."""
    if not result.status.has_plan:
        return RoundOutcome(result, None, [])
    violations = check_plan(inp, result.bookings)
    figures = compute_figures(inp, result.bookings)
    return RoundOutcome(result, figures, violations)


def improve_round(
    inp: RoundInput,
    params: SolveParams,
    plan: Sequence[Booking],
    on_progress: ProgressFn | None = None,
    *,
    balances: Mapping[str, Mapping[str, float]] | None = None,
    source: str = "bookings.csv",
) -> RoundOutcome:
    """Give a plan of this round more time (``plan --improve``, `decompose.polish_plan`) and
    check the result with the independent checker. The plan must keep every hard rule and be
    one the round's model can make (no acute or offered nights, every night one the model
    offers the child); otherwise `InputError` names each bad row of ``source``."""
    inst = build_instance(inp, balances=balances)
    keys = _plan_keys(inst, plan, source)
    violations = check_plan(inp, plan)
    if violations:
        raise InputError(
            Problem(source, None, None, f"breaks {v.rule}: {v.message}") for v in violations
        )
    return _checked(inp, polish_plan(inst, inp.config.weights, params, keys, on_progress))


def _plan_keys(inst: Instance, plan: Sequence[Booking], source: str) -> set[Key]:
    """``plan`` in the model's indices; `InputError` for each booking the model cannot make
    (rows as a spreadsheet shows them: the header is row 1)."""
    child_idx = {c.child_id: c.idx for c in inst.children}
    house_idx = {h.house_id: h.idx for h in inst.houses}
    free = {c.idx: frozenset(c.available) for c in inst.children}
    keys: set[Key] = set()
    problems: list[Problem] = []
    for row, b in enumerate(plan, start=2):
        why = None
        c, h, n = child_idx.get(b.child_id), house_idx.get(b.house_id), inst.night_index(b.night)
        if b.kind != "planned":
            why = f"a night of kind {b.kind!r}: only a round's planned nights can be improved"
        elif c is None or h is None:
            why = f"unknown child {b.child_id!r} or house {b.house_id!r} in this round"
        elif n not in free[c] or not _offered(inst.children[c], h, n):
            why = (
                f"{b.child_id} in {b.house_id} on {b.night}: not a night the round offers the"
                " child (outside the round, its eligible houses, its free nights or its"
                " pattern's nights); plan anew with --keep"
            )
        if why is not None:
            problems.append(Problem(source, row, None, why))
        else:
            assert c is not None and h is not None
            keys.add((c, h, n))
    if problems:
        raise InputError(problems)
    return keys


def _offered(child: ChildData, h: HouseIdx, n: NightIdx) -> bool:
    return h in child.eligible and child.offered(n) and (h, n) not in child.blocked


def holiday_names(inp: RoundInput) -> dict[dt.date, str]:
    """Public and school holidays of the round, for marking calendars."""
    names: dict[dt.date, str] = {}
    for day in inp.calendar:
        for night in day.nights():
            if inp.config.start <= night <= inp.config.end:
                names.setdefault(night, day.name or day.kind)
    return names


def summary_dict(inp: RoundInput, outcome: RoundOutcome, params: SolveParams) -> dict[str, Any]:
    """summary.json (contract v1): solver status, objective, best bound, gap, wall time and
    per-child granted and allocated nights, plus the checker's figures."""
    r = outcome.result
    allocated: dict[str, int] = {}
    for b in r.bookings:
        allocated[b.child_id] = allocated.get(b.child_id, 0) + 1
    return {
        "status": str(r.status),
        "method": r.method,
        "objective": r.objective,
        "best_bound": r.best_bound,
        "gap": r.gap,
        "wall_time": round(r.wall_time, 3),
        "interrupted": r.interrupted,
        "round": {"start": inp.config.start, "end": inp.config.end, "nights": inp.config.n_nights},
        "input": inp.source,
        "solver": {
            "time_limit": params.time_limit,
            "seed": params.seed,
            "workers": params.workers,
            "ortools": _ortools_version(),
            "python": platform.python_version(),
        },
        "stages": [
            {
                "stage": s.stage,
                "name": s.name,
                "status": str(s.status),
                "objective": s.objective,
                "best_bound": s.best_bound,
                "wall_time": round(s.wall_time, 3),
            }
            for s in r.stages
        ],
        "objective_terms": r.term_values,
        "figures": outcome.figures.to_dict() if outcome.figures else None,
        "violations": [{"rule": str(v.rule), "message": v.message} for v in outcome.violations],
        "conflicts": r.conflicts,
        "wishes": [w.to_dict() for w in explain_wishes(inp, r.bookings)] if r.bookings else [],
        "trace": [
            {
                "stage": p.stage,
                "elapsed": round(p.elapsed, 3),
                "objective": p.objective,
                "best_bound": p.best_bound,
            }
            for p in r.trace
        ],
        "children": [
            {
                "child_id": c.child_id,
                "granted": c.granted_nights,
                "allocated": allocated.get(c.child_id, 0),
                "fulfilment": (allocated.get(c.child_id, 0) / c.granted_nights)
                if c.granted_nights
                else 1.0,
            }
            for c in inp.children
        ],
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: a number that is not finite (no bound, say) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _ortools_version() -> str:
    from importlib.metadata import version

    return version("ortools")


def write_plan(inp: RoundInput, outcome: RoundOutcome, params: SolveParams, out: Path) -> None:
    """Write bookings.csv, stays.csv, summary.json and calendar.xlsx, all or nothing."""
    bookings = outcome.result.bookings
    with atomic_output_dir(out) as tmp:
        write_bookings(bookings, tmp / "bookings.csv")
        stays = stays_from_bookings(bookings)
        write_csv_rows(
            tmp / "stays.csv",
            ["child_id", "house_id", "first_night", "last_night", "check_out", "nights"],
            (
                [s.child_id, s.house_id, s.first_night, s.last_night, s.check_out, s.nights]
                for s in stays
            ),
        )
        write_json(tmp / "summary.json", _finite(summary_dict(inp, outcome, params)))
        holidays = holiday_names(inp)
        write_calendar_workbook(inp, bookings, tmp / "calendar.xlsx", holidays=holidays)
        families = tmp / "families"
        families.mkdir()
        write_family_calendars(inp, bookings, families)
        write_family_letters(inp, bookings, families, holidays=holidays)
        houses = tmp / "houses"
        houses.mkdir()
        write_house_rosters(inp, bookings, houses, holidays=holidays)


def write_bookings(bookings: list[Booking], path: Path) -> None:
    write_csv_rows(
        path,
        ["child_id", "house_id", "night"],
        ([b.child_id, b.house_id, b.night] for b in bookings),
    )


def progress_line(point: ProgressPoint) -> str:
    where = f"{point.label}, " if point.label else ""
    line = f"{where}stage {point.stage}  {point.elapsed:6.1f}s  objective {point.objective:,.0f}"
    if math.isnan(point.best_bound):  # the neighbourhood search proves no bound
        return line
    gap = abs(point.objective - point.best_bound) / max(1.0, abs(point.objective))
    return f"{line}  bound {point.best_bound:,.0f}  gap {gap:.2%}"
