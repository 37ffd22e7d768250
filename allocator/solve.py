"""Solve a round in two stages with CP-SAT and return a plain `Result`.

Stage 1 maximises nights given and the worst child's share (a min-max fairness term drowns in a
weighted sum, so it gets a stage of its own). Stage 2 holds that level, within a small tolerance,
and optimises the full objective: stay shape, houses, wishes. A greedy plan is the hint of stage
1; stage 1's plan is the hint of stage 2. CTRL-C stops the search like a time limit: the later
stage is skipped and the best plan is kept.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from ortools.sat.python import cp_model

from allocator.cpsat.build import RoundModel, build_round_model
from allocator.cpsat.variables import Key
from allocator.diagnose import diagnose
from allocator.hint import greedy_plan
from allocator.instance import Instance
from allocator.result import ProgressPoint, Result, SolveStatus, StageReport
from models.config import ObjectiveWeights
from models.outputs import Booking

log = logging.getLogger(__name__)

ProgressFn = Callable[[ProgressPoint], None]

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
    stage1_share: float = 0.4
    log_search: bool = False


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, stage: int, started: float, sink: list[ProgressPoint], fn: ProgressFn | None):
        super().__init__()
        self._stage, self._started, self._sink, self._fn = stage, started, sink, fn

    def on_solution_callback(self) -> None:
        point = ProgressPoint(
            stage=self._stage,
            elapsed=time.monotonic() - self._started,
            objective=self.objective_value,
            best_bound=self.best_objective_bound,
        )
        self._sink.append(point)
        if self._fn is not None:
            self._fn(point)


class _Interrupt:
    def __init__(self) -> None:
        self.requested = False
        self.solver: cp_model.CpSolver | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.solver is not None:
            self.solver.stop_search()


@contextmanager
def _catch_ctrl_c() -> Iterator[_Interrupt]:
    interrupt = _Interrupt()
    try:
        previous = signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not in the main thread: no CTRL-C handling
        yield interrupt
        return
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def _solver(params: SolveParams, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, time_limit)
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.workers
    solver.parameters.log_search_progress = params.log_search
    # Our own SIGINT handler stops the search, so that the later stage can be skipped.
    solver.parameters.catch_sigint_signal = False
    if params.log_search:
        solver.log_callback = lambda line: log.debug("cp-sat: %s", line)
    return solver


def _plan_of(rm: RoundModel, solver: cp_model.CpSolver) -> set[Key]:
    return {key for key, var in rm.variables.night.items() if solver.value(var)}


def _bookings(inst: Instance, plan: set[Key]) -> list[Booking]:
    return sorted(
        Booking(inst.children[c].child_id, inst.houses[h].house_id, inst.nights[n])
        for c, h, n in plan
    )


def _hold_stage1_level(rm: RoundModel, solver: cp_model.CpSolver, tolerance_permille: int) -> None:
    """Stage 2 keeps what stage 1 reached: total nights (minus a small tolerance, so stays can
    be reshaped) and the worst child's share."""
    v = rm.variables
    total = sum(solver.value(a) for a in v.allocated.values())
    slack = total * tolerance_permille // 1000
    rm.model.add(sum(v.allocated.values()) >= total - slack)
    if v.worst_share is not None:
        rm.model.add(v.worst_share >= solver.value(v.worst_share))


def solve_round(
    inst: Instance,
    weights: ObjectiveWeights,
    params: SolveParams,
    on_progress: ProgressFn | None = None,
) -> Result:
    """Solve the round; see the module docstring for the stages."""
    started = time.monotonic()
    conflicts = diagnose(inst)
    if conflicts:
        return Result(SolveStatus.INFEASIBLE, 0.0, 0.0, 0.0, conflicts=conflicts)

    rm = build_round_model(inst, weights)
    plan = greedy_plan(inst)
    log.info("greedy start: %d nights", len(plan))
    trace: list[ProgressPoint] = []
    stages: list[StageReport] = []
    stage_names = {1: "nights and fairness", 2: "stays, houses and wishes"}
    final_solver: cp_model.CpSolver | None = None
    with _catch_ctrl_c() as interrupt:
        for stage in (1, 2):
            if interrupt.requested:
                break
            elapsed = time.monotonic() - started
            share = params.stage1_share if stage == 1 else 1.0
            budget = params.time_limit * share - elapsed
            rm.model.minimize(rm.stage_objective(stage))
            rm.hint(plan, inst)
            solver = _solver(params, budget)
            interrupt.solver = solver
            code = solver.solve(rm.model, _Progress(stage, started, trace, on_progress))
            status = _STATUS[code]
            stages.append(
                StageReport(
                    stage,
                    stage_names[stage],
                    status,
                    solver.objective_value if status.has_plan else float("nan"),
                    solver.best_objective_bound if status.has_plan else float("nan"),
                    solver.wall_time,
                )
            )
            log.info("stage %d: %s in %.1fs", stage, status, solver.wall_time)
            if not status.has_plan:
                if final_solver is None:
                    return Result(status, 0.0, 0.0, time.monotonic() - started, stages=stages)
                break
            plan = _plan_of(rm, solver)
            final_solver = solver
            if stage == 1:
                _hold_stage1_level(rm, solver, weights.fulfilment_tolerance_permille)

    assert final_solver is not None
    last = stages[-1] if stages[-1].status.has_plan else stages[-2]
    return Result(
        status=last.status,
        objective=last.objective,
        best_bound=last.best_bound,
        wall_time=time.monotonic() - started,
        bookings=_bookings(inst, plan),
        stages=stages,
        trace=trace,
        term_values={t.name: int(final_solver.value(t.expr)) for t in rm.terms},
        interrupted=interrupt.requested,
    )
