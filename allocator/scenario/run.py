"""Run a scenario: apply it, plan the round, check the plan, and report one flat table row.

`run_scenario_row` is the unit of work of a sweep (``allocator scenario sweep``): it takes only
picklable arguments and returns JSON-serialisable scalars, so it can run in a process pool or on
a Dask worker. `run_with_base` is what ``allocator scenario run`` does: the scenario and its
base, planned with the same seed and time limit, compared figure by figure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from allocator.io.atomic import atomic_output_dir, write_csv_rows, write_json
from allocator.pipeline import RoundOutcome, plan_round, write_plan
from allocator.scenario.apply import Applied, apply
from allocator.scenario.compare import Scalar, compare_rows, input_figures, plan_figures
from allocator.scenario.spec import Scenario, load_scenario
from allocator.solve import ProgressFn, SolveParams
from models.round_input import RoundInput

__all__ = [
    "CHECK_FAILED",
    "Comparison",
    "input_hash",
    "project_version",
    "run_scenario_row",
    "run_with_base",
    "scenario_params",
]

CHECK_FAILED = "CHECK_FAILED"
"""Status of a run whose plan the independent checker rejects (a bug; the plan is not used)."""


def project_version() -> str:
    try:
        return version("respite-allocator")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def ortools_version() -> str:
    try:
        return version("ortools")
    except PackageNotFoundError:
        return "unknown"


def _canonical(value: Any) -> Any:
    """Plain JSON types with a fixed order: sets sorted, dates ISO, enums their value."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return _canonical(value.model_dump())
    return value


def input_hash(inp: RoundInput) -> str:
    """SHA-256 of the round's content (config, houses, children, every table; not its source
    path), so two runs on the same data share a hash whatever folder they came from."""
    content = {
        "config": inp.config,
        "houses": list(inp.houses),
        "children": list(inp.children),
        "unavailable": list(inp.unavailable),
        "wishes": list(inp.wishes),
        "incompatible": list(inp.incompatible),
        "closures": list(inp.closures),
        "calendar": list(inp.calendar),
        "pins": list(inp.pins),
    }
    text = json.dumps(_canonical(content), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _flatten(prefix: str, value: Any, out: dict[str, Scalar]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, out)
    elif isinstance(value, list | tuple):
        for i, inner in enumerate(value):
            _flatten(f"{prefix}.{i}", inner, out)
    elif isinstance(value, Enum):
        out[prefix] = value.value
    elif isinstance(value, dt.date):
        out[prefix] = value.isoformat()
    elif value is None or isinstance(value, str | int | float | bool):
        out[prefix] = value
    else:
        out[prefix] = str(value)


def scenario_params(scenario: Scenario, inp: RoundInput | None = None) -> dict[str, Scalar]:
    """The scenario's changes as flat ``param.*`` columns (only keys the file sets), plus
    ``param.places_total`` and ``param.acute_reserve_total`` of the applied round, which every
    row has so that sweeps can plot against them."""
    data = scenario.model_dump(
        mode="python", exclude_unset=True, exclude={"name", "description", "base", "path"}
    )
    out: dict[str, Scalar] = {}
    for key, value in data.items():
        _flatten(f"param.{key}", value, out)
    if inp is not None:
        out["param.places_total"] = sum(h.places for h in inp.houses)
        out["param.acute_reserve_total"] = sum(inp.config.acute_reserve.values())
    return out


def _status(outcome: RoundOutcome) -> str:
    if not outcome.result.status.has_plan:
        return str(outcome.result.status)
    if outcome.violations:
        return CHECK_FAILED
    return str(outcome.result.status)


def scenario_row(
    applied: Applied,
    outcome: RoundOutcome,
    params: SolveParams,
    wall_time: float,
) -> dict[str, Scalar]:
    sc, inp, result = applied.scenario, applied.inp, outcome.result
    row: dict[str, Scalar] = {
        "scenario": sc.name,
        "scenario_file": str(sc.path),
        **scenario_params(sc, inp),
        "seed": params.seed,
        "time_limit": params.time_limit,
        "workers": params.workers,
        "method": result.method,
        "status": _status(outcome),
        "violations": len(outcome.violations),
        "objective": result.objective if result.status.has_plan else None,
        "best_bound": result.best_bound if result.status.has_plan else None,
        "solver_gap": result.gap if result.status.has_plan else None,
        "gap": None,
        "wall_time": round(wall_time, 3),
        "solve_time": round(result.wall_time, 3),
        "changes": len(applied.changes),
    }
    if outcome.figures is not None and not outcome.violations:
        figures = plan_figures(inp, result.bookings, outcome.figures)
        row["gap"] = figures["gap_to_bound"]
        row.update(figures)
    else:
        row.update(input_figures(inp))
    row["input_hash"] = input_hash(inp)
    row["project_version"] = project_version()
    row["ortools_version"] = ortools_version()
    return {k: _json_scalar(v) for k, v in row.items()}


def _json_scalar(value: Scalar) -> Scalar:
    """NaN and infinity are not JSON: written as None."""
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return None
    return value


def solve_params(applied: Applied, seed: int, time_limit: float, workers: int) -> SolveParams:
    return SolveParams(
        time_limit=time_limit, seed=seed, workers=workers, method=applied.inp.config.method
    )


def run_scenario_row(
    scenario: Path,
    seed: int,
    time_limit: float,
    workers: int,
    out: Path | None = None,
) -> dict[str, Any]:
    """Load, apply and plan a scenario; check the plan; return one flat table row.

    Parameters
    ----------
    scenario
        The scenario file (``.toml``).
    seed, time_limit, workers
        CP-SAT's random seed, time limit in seconds (for the whole round) and workers.
    out
        When given, the plan folder (as ``allocator plan`` writes it) plus ``scenario.json``
        (this row and the list of changes) and ``comparison.json``/``comparison.csv`` against
        the base's round figures (the base is not planned here; `run_with_base` plans it).

    Returns
    -------
    dict
        JSON-serialisable scalars: ``scenario``, ``scenario_file``, ``param.*``, ``seed``,
        ``time_limit``, ``workers``, ``status`` (solver status, or ``CHECK_FAILED`` when the
        checker finds a violation), ``objective``, ``gap`` (to the max-flow bound),
        ``solver_gap``, ``wall_time``, ``granted``, ``allocated``, ``fulfilment``,
        ``fulfilment_cat_*``, ``fulfilment_level_*``, ``under_80``, ``under_50``,
        ``util_<house_id>``, ``acute_place_nights``, ``cost``, ``cost_per_night``,
        ``input_hash``, ``project_version``, ``ortools_version``. Without a plan the plan
        figures are missing and the round's own figures are given.

    Raises
    ------
    InputError
        A bad scenario file or base round (every problem with file, line or row, and key).
    """
    started = time.monotonic()
    sc = load_scenario(scenario)
    applied = apply(sc)
    params = solve_params(applied, seed, time_limit, workers)
    outcome = plan_round(applied.inp, params)
    row = scenario_row(applied, outcome, params, time.monotonic() - started)
    if out is not None and outcome.result.status.has_plan and not outcome.violations:
        base_row = input_figures(applied.base)
        write_outputs(applied, outcome, params, Path(out), row, base_row)
    return row


@dataclass
class Comparison:
    """A scenario planned, and its base planned with the same settings (or not planned)."""

    applied: Applied
    params: SolveParams
    scenario: RoundOutcome
    base: RoundOutcome | None
    scenario_row: dict[str, Scalar]
    base_row: dict[str, Scalar]
    rows: list[dict[str, Scalar]] = field(default_factory=list)


def run_with_base(
    applied: Applied,
    params: SolveParams,
    on_progress: ProgressFn | None = None,
    *,
    plan_base: bool = True,
    on_base_progress: ProgressFn | None = None,
) -> Comparison:
    """Plan the scenario's round and its base with the same seed, time limit and workers.

    The base keeps its own method and weights; solving it too (rather than comparing with a
    plan made earlier under other settings) is what makes the difference the scenario's. With
    ``plan_base=False`` the base is compared on its round figures only (granted, places,
    reserve).
    """
    started = time.monotonic()
    outcome = plan_round(applied.inp, params, on_progress)
    scen_row = scenario_row(applied, outcome, params, time.monotonic() - started)
    base_outcome: RoundOutcome | None = None
    if plan_base:
        started = time.monotonic()
        base_params = SolveParams(
            time_limit=params.time_limit,
            seed=params.seed,
            workers=params.workers,
            method=applied.base.config.method,
        )
        base_outcome = plan_round(applied.base, base_params, on_base_progress)
        base_applied = Applied(applied.scenario, applied.base, applied.base, [])
        base_row = scenario_row(base_applied, base_outcome, base_params, time.monotonic() - started)
    else:
        base_row = dict(input_figures(applied.base))
    rows = compare_rows(figures_only(base_row), figures_only(scen_row))
    return Comparison(applied, params, outcome, base_outcome, scen_row, base_row, rows)


_NOT_FIGURES = (
    "scenario",
    "scenario_file",
    "seed",
    "time_limit",
    "workers",
    "input_hash",
    "project_version",
    "ortools_version",
    "changes",
)


def figures_only(row: Mapping[str, Scalar]) -> dict[str, Scalar]:
    return {k: v for k, v in row.items() if k not in _NOT_FIGURES and not k.startswith("param.")}


def write_outputs(
    applied: Applied,
    outcome: RoundOutcome,
    params: SolveParams,
    out: Path,
    row: Mapping[str, Scalar],
    base_row: Mapping[str, Scalar],
) -> None:
    """Write the plan folder plus ``scenario.json``, ``comparison.json`` and ``comparison.csv``,
    all or nothing."""
    rows = compare_rows(figures_only(base_row), figures_only(row))
    with atomic_output_dir(out) as tmp:
        write_plan(applied.inp, outcome, params, tmp)  # atomic itself: swaps into tmp
        write_json(
            tmp / "scenario.json",
            {
                "scenario": applied.scenario.name,
                "file": str(applied.scenario.path),
                "description": applied.scenario.description,
                "base": str(applied.scenario.base_path),
                "changes": applied.changes,
                "row": dict(row),
            },
        )
        write_json(
            tmp / "comparison.json",
            {
                "scenario": applied.scenario.name,
                "base": str(applied.scenario.base_path),
                "changes": applied.changes,
                "seed": params.seed,
                "time_limit": params.time_limit,
                "workers": params.workers,
                "base_status": base_row.get("status"),
                "scenario_status": row.get("status"),
                "figures": rows,
            },
        )
        write_csv_rows(
            tmp / "comparison.csv",
            ["metric", "base", "scenario", "change"],
            ([r["metric"], r["base"], r["scenario"], r["change"]] for r in rows),
        )


def write_comparison(comparison: Comparison, out: Path) -> None:
    """`write_outputs` for a scenario planned together with its base."""
    write_outputs(
        comparison.applied,
        comparison.scenario,
        comparison.params,
        out,
        comparison.scenario_row,
        comparison.base_row,
    )
