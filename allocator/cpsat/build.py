"""Wire variables, hard rules and objective terms into one CP-SAT model (or a sub-problem)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from allocator.cpsat.constraints import add_constraints
from allocator.cpsat.objective import Term, add_terms
from allocator.cpsat.variables import Key, Variables, add_variables
from allocator.instance import ChildIdx, Instance
from models.config import ObjectiveWeights

log = logging.getLogger(__name__)


@dataclass
class RoundModel:
    model: cp_model.CpModel
    variables: Variables
    terms: list[Term]

    def add_stage2_terms(self, inst: Instance, weights: ObjectiveWeights) -> None:
        """Extend the solved stage-1 model with the shape, house and wish terms."""
        self.terms.extend(add_terms(self.model, inst, self.variables, weights, stage=2))

    def stage_objective(self, stage: int) -> cp_model.LinearExprT:
        """The sum of the terms up to ``stage`` (stage 2 is the round's full objective)."""
        return sum(t.expr for t in self.terms if t.stage <= stage)

    def hint(self, plan: set[Key] | frozenset[Key], inst: Instance) -> None:
        """Give CP-SAT a complete starting plan: every variable gets the value it has in
        ``plan`` (night variables, and the stay, house and share variables derived from them)."""
        v = self.variables
        m = self.model
        m.clear_hints()
        for key, var in v.night.items():
            m.add_hint(var, 1 if key in plan else 0)
        nights_of: dict[int, set[int]] = {}
        houses_of: dict[int, set[int]] = {}
        for c, h, n in plan:
            nights_of.setdefault(c, set()).add(n)
            houses_of.setdefault(c, set()).add(h)
        for (c, n), var in v.occupied_var.items():
            m.add_hint(var, int(n in nights_of.get(c, ())))
        for c, var in v.allocated.items():
            m.add_hint(var, len(nights_of.get(c, ())))
        for (c, n), var in v.stay_start.items():
            mine = nights_of.get(c, set())
            m.add_hint(var, int(n in mine and n - 1 not in mine))
        for (c, n), var in v.single_night.items():
            mine = nights_of.get(c, set())
            m.add_hint(var, int(n in mine and n - 1 not in mine and n + 1 not in mine))
        for (c, h), var in v.house_used.items():
            m.add_hint(var, int(h in houses_of.get(c, set())))
        for (c, i), var in v.deep_shortfall.items():
            m.add_hint(var, max(0, v.deep_floor[(c, i)] - len(nights_of.get(c, ()))))
        if v.worst_share is not None:
            allocated = {c: len(nights) for c, nights in nights_of.items()}
            m.add_hint(v.worst_share, inst.worst_share(allocated))


def build_round_model(
    inst: Instance,
    weights: ObjectiveWeights,
    *,
    fixed: Mapping[Key, int] | None = None,
    free_children: frozenset[ChildIdx] | None = None,
) -> RoundModel:
    """Build the round's model. With ``free_children`` only those children's nights are
    decision variables; the others keep ``fixed`` (for neighbourhood search)."""
    model = cp_model.CpModel()
    variables = add_variables(model, inst, fixed=fixed, free_children=free_children)
    add_constraints(model, inst, variables)
    terms = add_terms(model, inst, variables, weights, stage=1)
    log.info(
        "model: %d night variables, %d constraints, terms %s",
        len(variables.night),
        len(model.proto.constraints),
        ", ".join(t.name for t in terms),
    )
    return RoundModel(model, variables, terms)
