"""Sweeps: many scenario runs (scenarios × seeds) in parallel, resumable, one tidy table.

A sweep file (TOML) names a list of scenario files, or a grid (one scenario file, a dotted key
in it and the values to give that key), or both, and the seeds to run each with::

    name = "acute-vestlund"            # default: the file name without .toml
    seeds = [1, 2]
    time_limit = 60                    # seconds per run (--time-limit overrides)
    # workers = 1                      # CP-SAT workers per run (default: cores / parallel runs)
    # timeout = 300                    # a run taking longer is recorded as "timeout"

    scenarios = ["../acute-0.toml"]    # relative to this file

    [grid]
    scenario = "../acute-4.toml"       # the scenario the grid starts from
    parameter = "acute_reserve.vestlund"
    values = [0, 1, 2, 3]
    # labels = ["none", "one", ...]    # required when a value is a table or an array

A grid writes each concrete scenario to ``DIR/scenarios/<name>.toml`` (the parameter set, the
base path rewritten), so every run can be repeated from a file. Every run is keyed by a hash of
the scenario's content and its base data's files, the seed, the time limit and the project
version (`run_key`); a finished run is written atomically to ``DIR/runs/<key>.json`` and the
table ``DIR/results.csv`` / ``DIR/results.parquet`` is rebuilt from those files, so a sweep
that is killed resumes where it stopped. CP-SAT's worker count is not in the key: a resumed
sweep with another ``--processes`` keeps its finished runs (each row records its workers).

Runs go to a process pool (one fresh process per run), a local Dask cluster, or the scheduler
of an existing Dask cluster; a run that raises is recorded as ``failed`` and one over its time
budget as ``timeout``, with the error text, and the sweep goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import copy
import datetime as dt
import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import re
import signal
import socket
import threading
import time
import tomllib
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from allocator.io.atomic import atomic_write_bytes, atomic_write_text, write_json
from allocator.io.errors import InputError, Problem
from allocator.io.outdir import OutputKind, unsafe_output_dir
from models.round_input import RoundInput

__all__ = [
    "FAILED",
    "TIMEOUT",
    "Grid",
    "Mode",
    "Run",
    "RunTimeout",
    "Runner",
    "SweepOutcome",
    "SweepPlan",
    "SweepSpec",
    "check_scenarios_apply",
    "execute_run",
    "expand_sweep",
    "finished_rows",
    "load_sweep",
    "plan_parallelism",
    "read_results",
    "run_key",
    "run_sweep",
    "unsafe_out_dir",
    "write_results",
]

log = logging.getLogger(__name__)

FAILED = "failed"
"""Status of a run that raised (bad scenario, a bug, a worker that died)."""
TIMEOUT = "timeout"
"""Status of a run that went over its time budget (``timeout`` in the sweep file)."""
PLAN_STATUSES = frozenset({"OPTIMAL", "FEASIBLE"})
"""Statuses of a run whose plan the checker accepted: only these are plotted."""

DEFAULT_TIME_LIMIT = 60.0
CONNECT_TIMEOUT = "15s"
"""How long to try to reach a Dask scheduler (``--cluster``) before giving up."""
MARKER = "sweep.json"
"""Written first into a sweep's folder: a folder holding it may be resumed or replaced."""

Scalar = str | int | float | bool | None
Runner = Callable[[Path, int, float, int], Mapping[str, Any]]
"""``run_scenario_row(scenario, seed, time_limit, workers)``: one flat table row."""
Mode = Literal["serial", "processes", "dask-local", "cluster"]

_ID_CHARS = re.compile(r"[^A-Za-z0-9_.\-]+")


# ---------------------------------------------------------------------------------------------
# The sweep file
# ---------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    """Unknown keys are errors: a typo in a sweep must not silently run the wrong grid."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Grid(_Strict):
    """One scenario file, a dotted key into it, and the values to give that key."""

    scenario: str = Field(min_length=1)
    parameter: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
    values: list[Any] = Field(min_length=1)
    labels: list[str] | None = None


class SweepSpec(_Strict):
    """A parsed sweep file; ``path`` is the file it came from (set by `load_sweep`)."""

    name: str = Field(default="", max_length=80)
    description: str = ""
    scenarios: list[str] = Field(default_factory=list)
    grid: Grid | None = None
    seeds: list[int] = Field(default_factory=lambda: [1], min_length=1)
    time_limit: float = Field(default=DEFAULT_TIME_LIMIT, gt=0)
    workers: int | None = Field(default=None, ge=1, le=64)
    timeout: float | None = Field(default=None, gt=0)
    path: Path = Field(default=Path("sweep.toml"), exclude=True)

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a seed is listed twice")
        if any(s < 0 for s in value):
            raise ValueError("seeds must be 0 or more")
        return value


def _line_of(text: str, key: str) -> int | None:
    """The line a dotted key (``grid.values``) is set on; the line of its table otherwise."""
    parts = key.split(".")
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("["):
            table = stripped.strip("[]").strip()
            if table == ".".join(parts[:-1]) and len(parts) > 1 and parts[-1].isdigit():
                return number
            continue
        name = stripped.split("=", 1)[0].strip()
        if "=" in stripped and ".".join(p for p in (table, name) if p) in (
            key,
            ".".join(parts[:-1]),
        ):
            return number
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().strip("[]").strip() == parts[0]:
            return number
    return None


def _allowed(model: type[BaseModel]) -> str:
    return ", ".join(name for name in model.model_fields if name != "path")


def _problem(label: str, text: str, error: Mapping[str, Any]) -> Problem:
    loc = [str(p) for p in error["loc"]]
    key = ".".join(loc)
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        where = Grid if loc[:1] == ["grid"] else SweepSpec
        message = f"unknown key '{loc[-1]}' (allowed: {_allowed(where)})"
    elif error["type"] == "missing":
        message = "required key is missing"
    elif isinstance(error.get("input"), str | int | float | bool):
        message = f"{message} (got {error['input']!r})"
    return Problem(label, _line_of(text, key), key, message)


def parse_sweep(text: str, path: Path) -> SweepSpec:
    """Parse the text of a sweep file; ``path`` names it in errors and anchors relative paths.

    Raises
    ------
    InputError
        Every problem in the file, each naming the file, its line and the key.
    """
    label = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise InputError([Problem(label, line, None, f"not valid TOML: {exc}")]) from None
    try:
        spec = SweepSpec.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise InputError([_problem(label, text, e) for e in exc.errors()]) from None
    problems: list[Problem] = []
    if not spec.scenarios and spec.grid is None:
        problems.append(Problem(label, None, "scenarios", "give scenarios = [...] or a [grid]"))
    for i, name in enumerate(spec.scenarios):
        if not _resolve(path, name).is_file():
            problems.append(
                Problem(label, _line_of(text, "scenarios"), f"scenarios.{i}", f"{name!r} not found")
            )
    grid = spec.grid
    if grid is not None:
        if not _resolve(path, grid.scenario).is_file():
            problems.append(
                Problem(
                    label,
                    _line_of(text, "grid.scenario"),
                    "grid.scenario",
                    f"{grid.scenario!r} not found",
                )
            )
        if grid.labels is not None and len(grid.labels) != len(grid.values):
            problems.append(
                Problem(
                    label,
                    _line_of(text, "grid.labels"),
                    "grid.labels",
                    f"{len(grid.labels)} labels for {len(grid.values)} values",
                )
            )
        elif grid.labels is None and any(isinstance(v, dict | list) for v in grid.values):
            problems.append(
                Problem(
                    label,
                    _line_of(text, "grid.values"),
                    "grid.labels",
                    "a value is a table or an array: give labels = [...] to name each value",
                )
            )
        labels = _labels(grid)
        if len(set(labels)) != len(labels):
            problems.append(
                Problem(label, _line_of(text, "grid.values"), "grid.values", "a value is repeated")
            )
    if problems:
        raise InputError(problems)
    if not spec.name:
        spec = spec.model_copy(update={"name": path.stem})
    return spec


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and parse a sweep file.

    Raises
    ------
    InputError
        The file cannot be read, is not TOML, has unknown keys or bad values, or names a
        scenario file that does not exist; every problem names the file, line and key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "sweep file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), None, None, f"cannot be read: {exc}")]) from None
    return parse_sweep(text, path)


def _resolve(anchor: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else anchor.parent / p


def _labels(grid: Grid) -> list[str]:
    if grid.labels is not None:
        return list(grid.labels)
    return [_value_label(v) for v in grid.values]


def _value_label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Expansion: concrete scenario files and run keys
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One (scenario, seed) of a sweep. Picklable: it travels to pool and Dask workers."""

    key: str
    sweep: str
    order: int
    scenario: str
    file: Path
    seed: int
    time_limit: float
    parameter: str
    value: Scalar


@dataclass(frozen=True)
class SweepPlan:
    """A sweep expanded into runs, in the order they are listed and tabled."""

    spec: SweepSpec
    runs: list[Run]
    time_limit: float
    timeout: float
    workers: int | None


def default_timeout(time_limit: float) -> float:
    """A run's budget: twice the solve's limit plus two minutes for reading, the hint, the
    checker and the figures; a run past it has hung or thrashed, not merely solved long."""
    return 2.0 * time_limit + 120.0


def project_version() -> str:
    return _dist_version("respite-allocator")


def ortools_version() -> str:
    return _dist_version("ortools")


def _dist_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def content_hash(path: Path) -> str:
    """SHA-256 of a base data set's bytes: a workbook, or every file of a folder (by relative
    name; hidden files skipped), so the key changes when any input file changes."""
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path)
            if any(part.startswith(".") for part in rel.parts):
                continue
            digest.update(rel.as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    else:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(
    scenario_name: str,
    scenario_data: Mapping[str, Any],
    base_hash: str,
    seed: int,
    time_limit: float,
    project: str | None = None,
) -> str:
    """The key of one run: what it is computed from, not where its files are.

    The scenario's own ``base`` path is left out (a grid's concrete files point to the base
    from the sweep's folder); the base's content is in ``base_hash`` instead.
    """
    content = {
        "name": scenario_name,
        "scenario": {k: v for k, v in scenario_data.items() if k != "base"},
        "base": base_hash,
        "seed": seed,
        "time_limit": float(time_limit),
        "project": project if project is not None else project_version(),
    }
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.0.c`` in nested TOML data, creating tables on the way; a number indexes an
    array of tables (``new_houses.0.places``)."""
    parts = dotted.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(f"'{where}': no element {part} in this array")
            node = node[int(part)]
        elif isinstance(node, dict):
            child = node.setdefault(part, {})
            if not isinstance(child, dict | list):
                raise KeyError(f"'{where}' is a value, not a table")
            node = child
        else:
            raise KeyError(f"'{where}' is a value, not a table")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise KeyError(f"'{dotted}': no element {last} in this array")
        node[int(last)] = value
    else:
        node[last] = value


def _path_from(folder: Path, target: Path) -> str:
    """``target`` relative to ``folder`` when they share more than the root (a sweep folder
    moved with its repository still finds the base), else absolute."""
    src, dst = folder.resolve(), target.resolve()
    if Path(os.path.commonpath([src, dst])) == Path(src.anchor):
        return str(dst)
    return os.path.relpath(dst, src)


def _slug(text: str) -> str:
    return _ID_CHARS.sub("-", text).strip("-") or "value"


def _grid_scenarios(
    spec: SweepSpec, out: Path, write: bool
) -> list[tuple[Path, dict[str, Any], str, Scalar]]:
    """The grid's concrete scenarios: (file, TOML data, name, value for the table)."""
    from allocator.scenario.spec import parse_scenario

    grid = spec.grid
    assert grid is not None
    label = str(spec.path)
    source = _resolve(spec.path, grid.scenario)
    try:
        base_text = source.read_text(encoding="utf-8-sig")
        base_data = tomllib.loads(base_text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError([Problem(str(source), None, None, f"cannot be read: {exc}")]) from None
    base_scenario = parse_scenario(base_text, source)  # its own errors name its file
    folder = out / "scenarios"
    data_path = _path_from(folder, base_scenario.base_path)
    # Names say what was set: "acute_reserve.vestlund" → "acute-4-vestlund-2".
    tail = grid.parameter.split(".", 1)[-1]
    made = []
    problems: list[Problem] = []
    for i, (value, value_label) in enumerate(zip(grid.values, _labels(grid), strict=True)):
        data = copy.deepcopy(base_data)
        name = f"{base_scenario.name}-{tail}-{_slug(value_label)}"[:80]
        try:
            _set_dotted(data, grid.parameter, value)
        except KeyError as exc:
            problems.append(Problem(label, None, "grid.parameter", str(exc.args[0])))
            break
        description = base_scenario.description or base_scenario.name
        data = {
            "name": name,
            "description": f"{description} ({grid.parameter} = {value_label})",
            "base": data_path,
            **{k: v for k, v in data.items() if k not in ("name", "description", "base")},
        }
        file = folder / f"{name}.toml"
        text = (
            f"# Written by `allocator scenario sweep` from {source.name} ({spec.path.name}):"
            f" {grid.parameter} = {value_label}.\n" + tomli_w.dumps(data)
        )
        try:
            parse_scenario(text, file)
        except InputError as exc:
            for p in exc.problems:
                where = f"{p.column}: " if p.column else ""
                problems.append(
                    Problem(
                        label,
                        None,
                        f"grid.values.{i}",
                        f"{grid.parameter} = {value_label} gives a bad scenario:"
                        f" {where}{p.message}",
                    )
                )
            continue
        if write:
            atomic_write_text(file, text)
        table_value: Scalar = value if isinstance(value, str | int | float | bool) else value_label
        made.append((file, data, name, table_value))
    if problems:
        raise InputError(problems)
    return made


def check_scenarios_apply(plan: SweepPlan) -> None:
    """Apply every scenario of the sweep to its base round before any run starts, so that a
    change that cannot apply (an unknown house, a reserve above a house's places) stops the
    sweep up front rather than failing each of its runs later.

    Raises
    ------
    InputError
        Every problem of every scenario, each naming the scenario file and key (or the base's
        own file, row and column).
    """
    from allocator.scenario.apply import apply, read_base
    from allocator.scenario.spec import load_scenario

    bases: dict[Path, RoundInput] = {}
    problems: list[Problem] = []
    for file in dict.fromkeys(run.file for run in plan.runs):
        try:
            scenario = load_scenario(file)
            base_path = scenario.base_path.resolve()
            if base_path not in bases:
                bases[base_path] = read_base(scenario)
            apply(scenario, bases[base_path])
        except InputError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise InputError(problems)


def expand_sweep(
    spec: SweepSpec,
    out: Path,
    *,
    time_limit: float | None = None,
    write: bool = True,
) -> SweepPlan:
    """Turn a sweep into its runs: the listed scenarios, then the grid's, each × every seed.

    Parameters
    ----------
    spec
        A parsed sweep file.
    out
        The sweep's folder; a grid's concrete scenarios are written to ``out/scenarios/``.
    time_limit
        Overrides the file's ``time_limit`` (seconds per run).
    write
        False: compute runs and keys only (nothing is written).

    Raises
    ------
    InputError
        A listed scenario or a grid value that does not parse (naming its file and key).
    """
    from allocator.scenario.spec import load_scenario

    limit = float(time_limit if time_limit is not None else spec.time_limit)
    entries: list[tuple[Path, dict[str, Any], str, str, Scalar]] = []
    problems: list[Problem] = []
    for name in spec.scenarios:
        file = _resolve(spec.path, name)
        try:
            sc = load_scenario(file)
            data = tomllib.loads(file.read_text(encoding="utf-8-sig"))
        except InputError as exc:
            problems += exc.problems
            continue
        entries.append((file, data, sc.name, "scenario", sc.name))
    if spec.grid is not None:
        try:
            for file, data, name, value in _grid_scenarios(spec, out, write):
                entries.append((file, data, name, spec.grid.parameter, value))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    names = [e[2] for e in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(
            [
                Problem(
                    str(spec.path), None, "scenarios", f"scenario named twice: {', '.join(dupes)}"
                )
            ]
        )
    hashes: dict[Path, str] = {}
    runs: list[Run] = []
    project = project_version()
    for order, (file, data, name, parameter, value) in enumerate(entries):
        base = _resolve(file, str(data.get("base", ""))).resolve()
        if base not in hashes:
            hashes[base] = content_hash(base)
        for seed in spec.seeds:
            key = run_key(name, data, hashes[base], seed, limit, project)
            runs.append(
                Run(key, spec.name, order, name, file.resolve(), seed, limit, parameter, value)
            )
    timeout = spec.timeout if spec.timeout is not None else default_timeout(limit)
    return SweepPlan(spec, runs, limit, timeout, spec.workers)


# ---------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------


class RunTimeout(BaseException):
    """A run went over its budget. A BaseException, so no ``except Exception`` in the pipeline
    swallows it."""


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise `RunTimeout` in this thread after ``seconds`` (a SIGALRM timer).

    Only the main thread of a process can take signals: in a pool worker (one process per
    run) the budget is enforced; on a Dask worker thread it is checked after the run only.
    """
    if (
        seconds is None
        or threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
    ):
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        from allocator.solve import Interrupt

        # A solve runs in its own thread, which would outlive the run in this (reused) process:
        # stop it the way CTRL-C does, through the handler the solve installed.
        handler = signal.getsignal(signal.SIGINT)
        if isinstance(handler, Interrupt):
            handler(signal.SIGINT, None)
        raise RunTimeout()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _default_runner() -> Runner:
    from allocator.scenario.run import run_scenario_row

    return run_scenario_row


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, InputError):
        return "; ".join(str(p) for p in exc.problems)
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def execute_run(
    run: Run,
    workers: int,
    timeout: float | None,
    runner: Runner | None = None,
) -> dict[str, Scalar]:
    """Run one (scenario, seed) and return its table row; never raises for a failed run.

    Parameters
    ----------
    run
        The run.
    workers
        CP-SAT workers.
    timeout
        The run's budget in seconds (None: none).
    runner
        ``run_scenario_row`` (the default) or a stand-in with its signature (tests).

    Returns
    -------
    dict
        The runner's row plus ``run_key``, ``sweep``, ``sweep_order``, ``sweep_parameter``,
        ``sweep_value``, ``status`` (the runner's, or ``failed``/``timeout``),
        ``solver_status``, ``error``, ``host`` and ``finished_at``.
    """
    fn = runner if runner is not None else _default_runner()
    started = time.monotonic()
    row: dict[str, Any] = {}
    error: str | None = None
    try:
        with _deadline(timeout):
            row = dict(fn(run.file, run.seed, run.time_limit, workers))
        status = str(row.get("status", "UNKNOWN"))
    except RunTimeout:
        status, error = TIMEOUT, f"stopped after the run's budget of {timeout:g} s"
    except Exception as exc:  # a failed run is data for the table, the sweep goes on
        status, error = FAILED, _error_text(exc)
    wall = time.monotonic() - started
    if error is None and timeout is not None and wall > timeout:
        status, error = TIMEOUT, f"took {wall:.1f} s, over the run's budget of {timeout:g} s"
    return _finish(run, workers, row, status, error, wall)


def _finish(
    run: Run,
    workers: int,
    row: Mapping[str, Any],
    status: str,
    error: str | None,
    wall: float,
) -> dict[str, Scalar]:
    out: dict[str, Any] = {
        "sweep": run.sweep,
        "sweep_order": run.order,
        "sweep_parameter": run.parameter,
        "sweep_value": run.value,
        "scenario": run.scenario,
        "scenario_file": str(run.file),
        "seed": run.seed,
        "time_limit": run.time_limit,
        "workers": workers,
        "wall_time": round(wall, 3),
        "project_version": project_version(),
        "ortools_version": ortools_version(),
    }
    for key, value in row.items():
        if key not in ("sweep", "sweep_order", "sweep_parameter", "sweep_value"):
            out[key] = value
    out["solver_status"] = row.get("status")
    out["status"] = status
    out["error"] = error
    out["run_key"] = run.key
    out["host"] = socket.gethostname()
    out["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {k: _scalar(v) for k, v in out.items()}


def _scalar(value: Any) -> Scalar:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _scalar(value.item())
    return str(value)


def _failure(run: Run, workers: int, exc: BaseException) -> dict[str, Scalar]:
    """The row of a run whose worker died or whose task could not be run at all."""
    return _finish(run, workers, {}, FAILED, _error_text(exc), 0.0)


# ---------------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------------


def plan_parallelism(
    cores: int, runs: int, processes: int | None = None, workers: int | None = None
) -> tuple[int, int]:
    """Parallel runs and CP-SAT workers per run so that runs × workers fit ``cores``.

    Either may be fixed by the caller; the other fills the cores. Both fixed: taken as given.
    """
    cores = max(1, cores)
    runs = max(1, runs)
    if processes is None and workers is None:
        processes = min(runs, cores)
        return processes, max(1, cores // processes)
    if workers is None:
        assert processes is not None
        return processes, max(1, cores // processes)
    if processes is None:
        return max(1, min(runs, cores // workers)), workers
    return processes, workers


@dataclass
class SweepOutcome:
    """What a sweep did: runs in the plan, already done before, run now, and their statuses."""

    total: int
    skipped: int
    ran: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    processes: int = 1
    workers: int = 1
    wall_time: float = 0.0

    @property
    def problems(self) -> int:
        return sum(n for s, n in self.statuses.items() if s not in PLAN_STATUSES)


def unsafe_out_dir(out: Path) -> str | None:
    """Why a sweep must not write into ``out`` (None: it may); a sweep's own folder may be
    resumed, so files a user put in it are kept."""
    return unsafe_output_dir(out, OutputKind("sweep", MARKER, lambda _name: True))


def _read_row(path: Path) -> dict[str, Scalar] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("run file %s cannot be read; the run is repeated", path)
        return None
    return data if isinstance(data, dict) else None


def finished_rows(out: Path, runs: Sequence[Run]) -> dict[str, dict[str, Scalar]]:
    """Rows already recorded in ``out/runs/`` for these runs, by key."""
    rows = {}
    for run in runs:
        path = out / "runs" / f"{run.key}.json"
        if path.exists():
            row = _read_row(path)
            if row is not None:
                rows[run.key] = row
    return rows


LEAD_COLUMNS = (
    "sweep",
    "sweep_order",
    "scenario",
    "sweep_parameter",
    "sweep_value",
    "seed",
    "status",
    "solver_status",
    "error",
    "violations",
    "fulfilment",
    "under_80",
    "under_50",
    "granted",
    "allocated",
    "cost",
    "cost_per_night",
    "gap",
    "solver_gap",
    "objective",
    "wall_time",
    "time_limit",
    "workers",
)
TAIL_COLUMNS = (
    "input_hash",
    "scenario_file",
    "run_key",
    "project_version",
    "ortools_version",
    "host",
    "finished_at",
)


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    lead = [c for c in LEAD_COLUMNS if c in seen]
    params = sorted(c for c in seen if c.startswith("param."))
    tail = [c for c in TAIL_COLUMNS if c in seen]
    rest = [c for c in seen if c not in lead and c not in tail and c not in params]
    return lead + params + rest + tail


def results_frame(rows: Sequence[Mapping[str, Any]]) -> Any:
    """The table as a pandas DataFrame; a column whose values mix kinds (``3`` and ``"all"``)
    becomes text, so that Parquet can store it."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=_columns(rows))
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        kinds = {
            "bool" if isinstance(v, bool) else "num" if isinstance(v, int | float) else "str"
            for v in frame[col]
            if v is not None and not (isinstance(v, float) and math.isnan(v))
        }
        if len(kinds) > 1:
            frame[col] = [None if v is None else str(v) for v in frame[col]]
    return frame


def write_results(out: Path, runs: Sequence[Run]) -> Any:
    """Rebuild ``results.csv`` and ``results.parquet`` from the run files, in the sweep's
    order, each written atomically. Returns the DataFrame."""
    found = finished_rows(out, runs)
    rows = [found[r.key] for r in runs if r.key in found]
    frame = results_frame(rows)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    atomic_write_bytes(out / "results.parquet", buffer.getvalue())
    atomic_write_text(out / "results.csv", frame.to_csv(index=False, lineterminator="\n"))
    return frame


def read_results(out: Path) -> Any:
    """The sweep's table (Parquet, else CSV).

    Raises
    ------
    InputError
        No table in ``out``.
    """
    import pandas as pd

    parquet, csv = out / "results.parquet", out / "results.csv"
    try:
        if parquet.exists():
            return pd.read_parquet(parquet)
        if csv.exists():
            return pd.read_csv(csv)
    except Exception as exc:  # a damaged table: say which file, not a traceback
        raise InputError([Problem(str(parquet), None, None, f"cannot be read: {exc}")]) from None
    raise InputError([Problem(str(out), None, None, "no results.csv or results.parquet here")])


def _write_marker(out: Path, plan: SweepPlan) -> None:
    write_json(
        out / MARKER,
        {
            "sweep": plan.spec.name,
            "description": plan.spec.description,
            "file": str(plan.spec.path.resolve()),
            "seeds": plan.spec.seeds,
            "time_limit": plan.time_limit,
            "timeout": plan.timeout,
            "runs": [
                {
                    "key": r.key,
                    "scenario": r.scenario,
                    "file": str(r.file),
                    "seed": r.seed,
                    "parameter": r.parameter,
                    "value": r.value,
                }
                for r in plan.runs
            ],
        },
    )


def run_sweep(
    plan: SweepPlan,
    out: Path,
    *,
    mode: Mode = "processes",
    processes: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    runner: Runner | None = None,
    retry_failed: bool = False,
    on_row: Callable[[dict[str, Scalar], int, int], None] | None = None,
    cores: int | None = None,
    dask_processes: bool = True,
) -> SweepOutcome:
    """Run every run of ``plan`` not yet recorded in ``out`` and rebuild the table after each.

    Parameters
    ----------
    plan
        From `expand_sweep`.
    out
        The sweep's folder (``runs/``, ``results.csv``, ``results.parquet``).
    mode
        ``serial`` (in this process), ``processes`` (a pool, one fresh process per run),
        ``dask-local`` (a Dask LocalCluster started for the sweep) or ``cluster`` (the Dask
        scheduler at ``cluster``).
    processes, workers
        Parallel runs and CP-SAT workers per run (default: fill the cores, `plan_parallelism`;
        on a remote cluster workers default to the sweep file's, else 1).
    runner
        Stand-in for ``run_scenario_row`` (tests); must be picklable for pools and Dask.
    retry_failed
        Run again the runs recorded as failed or timed out.
    on_row
        Called with each finished row, the number finished so far and the number to run.
    dask_processes
        ``dask-local`` only: worker processes (True) or threads in this process (tests).

    Returns
    -------
    SweepOutcome
    """
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    _write_marker(out, plan)
    done = finished_rows(out, plan.runs)
    if retry_failed:
        done = {k: r for k, r in done.items() if r.get("status") not in (FAILED, TIMEOUT)}
    todo = [r for r in plan.runs if r.key not in done]
    cores = cores if cores is not None else (os.cpu_count() or 1)
    workers = workers if workers is not None else plan.workers
    if mode == "serial":
        processes = 1
        workers = workers if workers is not None else cores
    elif mode == "cluster":
        processes = processes or 1
        workers = workers if workers is not None else 1
    else:
        processes, workers = plan_parallelism(cores, len(todo), processes, workers)
    outcome = SweepOutcome(len(plan.runs), len(plan.runs) - len(todo), 0, {}, processes, workers)
    write_results(out, plan.runs)

    def record(row: dict[str, Scalar]) -> None:
        write_json(out / "runs" / f"{row['run_key']}.json", row)
        write_results(out, plan.runs)
        outcome.ran += 1
        status = str(row.get("status"))
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if on_row is not None:
            on_row(row, outcome.ran, len(todo))

    if todo:
        if mode == "serial":
            for run in todo:
                record(execute_run(run, workers, plan.timeout, runner))
        elif mode == "processes":
            _run_pool(todo, processes, workers, plan.timeout, runner, record)
        else:
            _run_dask(
                todo,
                workers,
                plan.timeout,
                runner,
                record,
                n_workers=processes,
                address=cluster if mode == "cluster" else None,
                processes=dask_processes,
            )
    outcome.wall_time = time.monotonic() - started
    return outcome


def _pool_worker_init() -> None:
    """Set up a pool process: its own process group, so that a CTRL-C at the terminal reaches
    the sweep only (which stops the pool; an interrupted solve is never recorded as a finished
    run), and the planner imported once rather than in every run."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpgrp()
    with contextlib.suppress(Exception):
        import allocator.scenario.run  # noqa: F401


def _run_pool(
    todo: Sequence[Run],
    processes: int,
    workers: int,
    timeout: float,
    runner: Runner | None,
    record: Callable[[dict[str, Scalar]], None],
) -> None:
    """Runs in a process pool, one run at a time per process. The processes are reused: a
    fresh one per run cost about 5 s of start-up and imports on this machine. A pool whose
    process died is rebuilt; a run that breaks it twice is failed."""
    pending = list(todo)
    broke: dict[str, int] = {}
    # spawn, not fork: the parent may hold threads (Dask, CP-SAT) that fork would copy badly.
    context = multiprocessing.get_context("spawn")
    while pending:
        pool = cf.ProcessPoolExecutor(
            max_workers=min(processes, len(pending)),
            mp_context=context,
            initializer=_pool_worker_init,
        )
        retry: list[Run] = []
        try:
            futures = {
                pool.submit(execute_run, run, workers, timeout, runner): run for run in pending
            }
            for future in cf.as_completed(futures):
                run = futures[future]
                try:
                    record(future.result())
                except cf.process.BrokenProcessPool as exc:
                    broke[run.key] = broke.get(run.key, 0) + 1
                    if broke[run.key] >= 2:
                        record(_failure(run, workers, exc))
                    else:
                        retry.append(run)
                except Exception as exc:  # e.g. a result that cannot be unpickled
                    record(_failure(run, workers, exc))
        except BaseException:
            _kill_pool(pool)
            raise
        pool.shutdown(wait=True)
        pending = retry


def _kill_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool now (CTRL-C): its running solves are not waited for."""
    procs = list(getattr(pool, "_processes", {}).values())  # no public way to reach them
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()


def _run_dask(
    todo: Sequence[Run],
    workers: int,
    timeout: float,
    runner: Runner | None,
    record: Callable[[dict[str, Scalar]], None],
    *,
    n_workers: int,
    address: str | None,
    processes: bool,
) -> None:
    """Runs as Dask tasks, on a LocalCluster started here (one thread per worker: a run is
    one task) or on the scheduler at ``address``."""
    from distributed import Client, LocalCluster, as_completed

    stack = contextlib.ExitStack()
    with stack:
        if address is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=processes,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(address, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"cannot connect to the Dask scheduler at {address}: {exc}"
                ) from None
        by_key = {}
        for run in todo:
            future = client.submit(
                execute_run, run, workers, timeout, runner, key=f"run-{run.key}", pure=False
            )
            by_key[future.key] = (future, run)
        for future in as_completed([f for f, _ in by_key.values()]):
            run = by_key[future.key][1]
            try:
                record(future.result())
            except Exception as exc:  # a worker died (KilledWorker) or the task failed
                record(_failure(run, workers, exc))
