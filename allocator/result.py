"""The plain result of a solve: status, objective, bound, gap, trace and the plan itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from models.outputs import Booking


class SolveStatus(StrEnum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"
    MODEL_INVALID = "MODEL_INVALID"

    @property
    def has_plan(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class StageReport:
    stage: int
    name: str
    status: SolveStatus
    objective: float
    best_bound: float
    wall_time: float


@dataclass(frozen=True)
class ProgressPoint:
    """One improving solution: when, which stage, its objective and the bound then."""

    stage: int
    elapsed: float
    objective: float
    best_bound: float
    label: str = ""
    """Which sub-problem, for the decomposed method (e.g. "house vestlund")."""


@dataclass
class Result:
    status: SolveStatus
    objective: float
    best_bound: float
    wall_time: float
    bookings: list[Booking] = field(default_factory=list)
    stages: list[StageReport] = field(default_factory=list)
    trace: list[ProgressPoint] = field(default_factory=list)
    term_values: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    conflicts: list[str] = field(default_factory=list)
    method: str = "monolithic"

    @property
    def gap(self) -> float:
        """Relative gap of the final stage between objective and best bound (0 = proved)."""
        if not self.status.has_plan:
            return float("nan")
        denominator = max(1.0, abs(self.objective))
        return abs(self.objective - self.best_bound) / denominator
