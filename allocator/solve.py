"""Solve a round in two stages with CP-SAT and return a plain `Result`.

Stage 1 maximises nights given and the worst child's share (a min-max fairness term drowns in a
weighted sum, so it gets a stage of its own). Stage 2 holds that level, within a small tolerance,
and optimises the full objective: stay shape, houses, wishes. A greedy plan is the hint of stage
1; stage 1's plan is the hint of stage 2. CTRL-C stops the search like a time limit: the later
stage is skipped and the best plan is kept.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from ortools.sat.python import cp_model

from allocator.cpsat.build import RoundModel, build_round_model
from allocator.cpsat.variables import Key
from allocator.diagnose import diagnose, unexplained_infeasibility
from allocator.evaluate import evaluate_terms
from allocator.hint import greedy_plan
from allocator.instance import ChildIdx, Instance, NightIdx, with_demand_scale
from allocator.result import ProgressPoint, Result, SolveStatus, StageReport
from models.config import ObjectiveWeights
from models.outputs import Booking

log = logging.getLogger(__name__)

ProgressFn = Callable[[ProgressPoint], None]

#: A stage given less time than this is skipped (presolve alone needs about this much).
MIN_STAGE_SECONDS = 0.5

#: The methods ``--method`` takes; ``lns`` and ``decomposed`` are one method.
METHODS = ("auto", "monolithic", "lns", "decomposed")

#: Above this many night variables ``auto`` lays the nights house by house.
AUTO_MONOLITHIC_MAX_VARIABLES = 20_000

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
    cp_model.MODEL_INVALID: SolveStatus.MODEL_INVALID,
}


@dataclass(frozen=True)
class SolveParams:
    """Time limit (seconds, split over the stages), random seed and CP-SAT worker count."""

    time_limit: float = 60.0
    seed: int = 1
    workers: int = 2
    stage1_share: float = 0.5
    log_search: bool = False
    stage1_near_start: bool = False
    """Stage 1 breaks ties towards its starting plan (`_near_start`). The decomposed method's
    house pass sets it."""
    stage2_lns_only: bool = False
    """Stage 2 runs only CP-SAT's neighbourhood workers (``use_lns_only``): on a full house
    they shape stays far faster than the full-search worker, though they never prove a plan
    optimal. The decomposed method's house pass sets it."""
    method: str = "auto"
    """``monolithic`` (one model), ``lns`` (the same as ``decomposed``: house by house, a mop-up,
    then a large neighbourhood search) or ``auto`` (by size)."""


def _unscaled(value: float, scale: int) -> float:
    """A stage's own objective from that objective × ``scale`` minus a tie-break in
    [0, scale) (see `_near_start`)."""
    return float(math.ceil(value / scale)) if scale > 1 else value


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(
        self,
        stage: int,
        started: float,
        sink: list[ProgressPoint],
        fn: ProgressFn | None,
        label: str = "",
        scale: int = 1,
    ):
        super().__init__()
        self._stage, self._started, self._sink, self._fn = stage, started, sink, fn
        self._label, self._scale = label, scale

    def on_solution_callback(self) -> None:
        point = ProgressPoint(
            stage=self._stage,
            elapsed=time.monotonic() - self._started,
            objective=_unscaled(self.objective_value, self._scale),
            best_bound=_unscaled(self.best_objective_bound, self._scale),
            label=self._label,
        )
        self._sink.append(point)
        if self._fn is not None:
            self._fn(point)


class Interrupt:
    def __init__(self) -> None:
        self.requested = False
        self.solver: cp_model.CpSolver | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.solver is not None:
            self.solver.stop_search()


@contextmanager
def maybe_catch_ctrl_c(interrupt: Interrupt | None) -> Iterator[Interrupt]:
    """Use the caller's CTRL-C handler if it has one, else install ours."""
    if interrupt is not None:
        yield interrupt
        return
    with catch_ctrl_c() as own:
        yield own


@contextmanager
def catch_ctrl_c() -> Iterator[Interrupt]:
    interrupt = Interrupt()
    try:
        previous = signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not in the main thread: no CTRL-C handling
        yield interrupt
        return
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def _solve_interruptibly(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    callback: cp_model.CpSolverSolutionCallback | None = None,
) -> cp_model.CpSolverStatus:
    """Run CP-SAT in a worker thread: Python runs signal handlers only in the main thread
    between bytecodes, so a CTRL-C must not wait for the whole solve to return."""
    if threading.current_thread() is not threading.main_thread():
        return solver.solve(model, callback)
    outcome: list[cp_model.CpSolverStatus] = []
    worker = threading.Thread(target=lambda: outcome.append(solver.solve(model, callback)))
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
    return outcome[0]


def _solver(params: SolveParams, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.workers
    solver.parameters.log_search_progress = params.log_search
    # Presolve loops on this model's many window constraints without gain; one pass suffices.
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.symmetry_level = 0
    # Our own SIGINT handler stops the search, so that the later stage can be skipped.
    solver.parameters.catch_sigint_signal = False
    if params.log_search:
        solver.log_callback = lambda line: log.debug("cp-sat: %s", line)
    return solver


def _plan_of(rm: RoundModel, solver: cp_model.CpSolver) -> set[Key]:
    return {key for key, var in rm.variables.night.items() if solver.value(var)}


def bookings_of(inst: Instance, plan: set[Key]) -> list[Booking]:
    return sorted(
        Booking(inst.children[c].child_id, inst.houses[h].house_id, inst.nights[n])
        for c, h, n in plan
    )


def _near_start(rm: RoundModel, start: set[Key]) -> tuple[cp_model.LinearExprT, int]:
    """Stage 1's objective with ties broken towards ``start`` (the greedy plan): of the plans
    with stage 1's best level it prefers the one that keeps most of ``start``'s nights (2 a
    night) and books its other nights next to them (1 a night). Stage 1 alone finds its last
    nights by moving single nights about, so its plan is scattered where the greedy plan, a
    few nights short of it, is whole stays in the family's pattern. Returns
    the objective and the factor its stage-1 part is scaled by, larger than the tie-break can
    ever be, so that the order of plans by stage 1's level is kept."""
    mine: dict[ChildIdx, set[NightIdx]] = defaultdict(set)
    for c, _h, n in start:
        mine[c].add(n)
    kept, joined = [], []
    for key, var in rm.variables.night.items():
        c, _h, n = key
        if key in start:
            kept.append(var)
        elif n - 1 in mine[c] or n + 1 in mine[c]:
            joined.append(var)
    scale = 2 * len(kept) + len(joined) + 1
    level = cp_model.LinearExpr.weighted_sum([rm.stage_objective(1)], [scale])
    tie_break = 2 * cp_model.LinearExpr.sum(kept) + cp_model.LinearExpr.sum(joined)
    return level - tie_break, scale


def _hold_stage1_level(
    rm: RoundModel, solver: cp_model.CpSolver, tolerance_permille: int
) -> tuple[int, int | None]:
    """Stage 2 keeps what stage 1 reached: total nights (minus a small tolerance, so stays can
    be reshaped) and the worst child's share. Returns both floors."""
    v = rm.variables
    total = sum(solver.value(a) for a in v.allocated.values())
    slack = total * tolerance_permille // 1000
    rm.model.add(sum(v.allocated.values()) >= total - slack)
    worst = None
    if v.worst_share is not None:
        worst = solver.value(v.worst_share)
        rm.model.add(v.worst_share >= worst)
    return total - slack, worst


def _hold_level_of(rm: RoundModel, inst: Instance, plan: set[Key]) -> None:
    """Stage 2 of a polish pass keeps ``plan``'s total nights and worst child share."""
    v = rm.variables
    rm.model.add(cp_model.LinearExpr.sum(list(v.allocated.values())) >= len(plan))
    if v.worst_share is not None:
        rm.model.add(v.worst_share >= inst.worst_share(Counter(c for c, _h, _n in plan)))


def _meets(inst: Instance, plan: set[Key], floor: tuple[int, int | None]) -> bool:
    """Whether ``plan`` satisfies stage 2's floors on total nights and worst share."""
    total, worst = floor
    if len(plan) < total:
        return False
    return worst is None or inst.worst_share(Counter(c for c, _h, _n in plan)) >= worst


def _stage2_start(
    inst: Instance,
    weights: ObjectiveWeights,
    floor: tuple[int, int | None],
    stage1_plan: set[Key],
    *earlier: set[Key] | None,
) -> set[Key]:
    """Stage 2's starting plan: of stage 1's plan and the earlier plans (the greedy hint, a
    polish pass's or ``--keep``'s plan) that still hold stage 1's level, the one the full
    objective likes best. Stage 1 looks at nights only, so its plan is often scattered where a
    greedy plan one night short of it is made of whole stays: a house of 43 children in a
    region five times Bergen kept 61 single nights from stage 1's plan after 2.5 s of stage 2,
    31 from the greedy plan."""
    best, best_cost = stage1_plan, sum(evaluate_terms(inst, weights, stage1_plan).values())
    for plan in earlier:
        if plan is None or plan is best or not _meets(inst, plan, floor):
            continue
        cost = sum(evaluate_terms(inst, weights, plan).values())
        if cost < best_cost:
            best, best_cost = set(plan), cost
    return best


def solve_monolithic(
    inst: Instance,
    weights: ObjectiveWeights,
    params: SolveParams,
    on_progress: ProgressFn | None = None,
    *,
    start_plan: set[Key] | None = None,
    label: str = "",
    interrupt: Interrupt | None = None,
    started: float | None = None,
    stage2_only: bool = False,
    min_stage_seconds: float = MIN_STAGE_SECONDS,
) -> Result:
    """Solve the round as one CP-SAT model; see the module docstring for the stages.

    With ``stage2_only`` (a polish pass) ``start_plan`` fixes stage 1's level: its nights and
    worst share are floors, and all the time goes to stage 2 from that plan. A stage with less
    than ``min_stage_seconds`` left is skipped (a small neighbourhood needs less than a big
    model's presolve)."""
    started = time.monotonic() if started is None else started
    local_start = time.monotonic()
    conflicts = diagnose(inst)
    if conflicts:
        return Result(SolveStatus.INFEASIBLE, 0.0, 0.0, 0.0, conflicts=conflicts)

    rm = build_round_model(inst, weights)
    if stage2_only and start_plan is not None:
        plan = set(start_plan)
    else:
        plan = greedy_plan(inst)
        if start_plan is not None and len(start_plan) >= len(plan):
            plan = set(start_plan)
    log.info("%s start: %d nights", label or "greedy", len(plan))
    trace: list[ProgressPoint] = []
    stages: list[StageReport] = []
    stage_names = {1: "nights and fairness", 2: "stays, houses and wishes"}
    final_solver: cp_model.CpSolver | None = None
    stages_to_run: tuple[int, ...] = (1, 2)
    if stage2_only and start_plan is not None:
        _hold_level_of(rm, inst, start_plan)
        plan = set(start_plan)
        stages_to_run = (2,)
    with maybe_catch_ctrl_c(interrupt) as interrupt:
        for stage in stages_to_run:
            if interrupt.requested:
                break
            elapsed = time.monotonic() - local_start
            share = params.stage1_share if stage == 1 and len(stages_to_run) == 2 else 1.0
            budget = params.time_limit * share - elapsed
            if budget < min_stage_seconds and (stage == 2 or params.time_limit < 1.0):
                # Too little time to presolve: keep the plan we have rather than overrun.
                break
            if stage == 2:
                rm.add_stage2_terms(inst, weights)
            objective, scale = rm.stage_objective(stage), 1
            if stage == 1 and params.stage1_near_start:
                objective, scale = _near_start(rm, plan)
            rm.model.minimize(objective)
            rm.hint(plan, inst)
            solver = _solver(params, budget)
            if stage == 2 and params.stage2_lns_only:
                solver.parameters.use_lns_only = True
            interrupt.solver = solver
            callback = _Progress(stage, started, trace, on_progress, label, scale)
            code = _solve_interruptibly(solver, rm.model, callback)
            status = _STATUS[code]
            stages.append(
                StageReport(
                    stage,
                    f"{label}: {stage_names[stage]}" if label else stage_names[stage],
                    status,
                    _unscaled(solver.objective_value, scale) if status.has_plan else float("nan"),
                    _unscaled(solver.best_objective_bound, scale)
                    if status.has_plan
                    else float("nan"),
                    solver.wall_time,
                )
            )
            log.info("stage %d: %s in %.1fs", stage, status, solver.wall_time)
            if not status.has_plan:
                if final_solver is None and status is not SolveStatus.UNKNOWN:
                    reason = (
                        [unexplained_infeasibility(inst)]
                        if status is SolveStatus.INFEASIBLE
                        else []
                    )
                    return Result(
                        status,
                        0.0,
                        0.0,
                        time.monotonic() - started,
                        stages=stages,
                        conflicts=reason,
                    )
                break
            stage1_start = plan
            plan = _plan_of(rm, solver)
            final_solver = solver
            if stage == 1:
                floor = _hold_stage1_level(rm, solver, weights.fulfilment_tolerance_permille)
                plan = _stage2_start(inst, weights, floor, plan, stage1_start, start_plan)

    if final_solver is None:
        # No solution in time: the starting plan keeps every hard rule, so it is the answer.
        terms = evaluate_terms(inst, weights, plan)
        return Result(
            status=SolveStatus.FEASIBLE,
            objective=float(sum(terms.values())),
            best_bound=float("nan"),
            wall_time=time.monotonic() - local_start,
            bookings=bookings_of(inst, plan),
            stages=stages,
            trace=trace,
            term_values=terms,
            interrupted=interrupt.requested,
        )
    last = stages[-1] if stages[-1].status.has_plan else stages[-2]
    return Result(
        status=last.status,
        objective=last.objective,
        best_bound=last.best_bound,
        wall_time=time.monotonic() - local_start,
        bookings=bookings_of(inst, plan),
        stages=stages,
        trace=trace,
        term_values=(
            {t.name: int(final_solver.value(t.expr)) for t in rm.terms}
            if last.stage == max(t.stage for t in rm.terms)
            else evaluate_terms(inst, weights, plan)
        ),
        interrupted=interrupt.requested,
    )


def monolithic_instance(inst: Instance, weights: ObjectiveWeights) -> Instance:
    """The instance whose objective the monolithic method optimises: when fair shares are
    weighed, their scales taken from a greedy plan (`with_demand_scale`)."""
    if weights.share_deviation_night > 0 and inst.demand:
        return with_demand_scale(inst, greedy_plan(inst))
    return inst


def solve_round(
    inst: Instance,
    weights: ObjectiveWeights,
    params: SolveParams,
    on_progress: ProgressFn | None = None,
) -> Result:
    """Solve the round with the method in ``params`` (``auto``: by size). When fair shares are
    weighed, the monolithic model takes their scales from a greedy plan; the decomposed method
    takes them from its own plan once the houses are laid."""
    method = params.method
    if method == "auto":
        small = inst.night_variables <= AUTO_MONOLITHIC_MAX_VARIABLES
        method = "monolithic" if small else "decomposed"
    if method in ("decomposed", "lns"):
        from allocator.decompose import solve_decomposed

        return solve_decomposed(inst, weights, params, on_progress)
    if method == "monolithic":
        return solve_monolithic(monolithic_instance(inst, weights), weights, params, on_progress)
    raise ValueError(f"unknown method {method!r} (auto, monolithic, lns or decomposed)")
