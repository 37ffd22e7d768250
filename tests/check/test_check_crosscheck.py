"""Random tiny rounds: the checker and the bound against a second, separately written formulation.

`_Oracle` states every hard rule once more as a small CP-SAT model written for this test only
(straight from the rule texts, sharing no helper with `allocator.check` and nothing with
`allocator.cpsat`). Then, on random rounds:

* a random plan passes `check_plan` exactly when the oracle accepts it;
* the oracle's optimal plan passes `check_plan`, and never beats `max_flow_bound`;
* without incompatible pairs and level-6 children the flow network *is* the problem (integral max
  flow), so the bound equals the exact optimum.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from allocator.check import check_plan, max_flow_bound
from models.outputs import Booking
from models.round_input import RoundInput
from models.rules import budget_nights

if TYPE_CHECKING:
    from conftest import Tiny

Key = tuple[str, str, dt.date]


class _Oracle:
    """Every hard rule of the round as CP-SAT constraints over x[child, house, night]."""

    def __init__(self, inp: RoundInput) -> None:
        self.inp = inp
        self.model = cp_model.CpModel()
        m = self.model
        self.x: dict[Key, cp_model.IntVar] = {}
        start, end = inp.config.start, inp.config.end
        # R1_INSIDE_VEDTAK, R1_UNAVAILABLE and R4: only these variables exist at all.
        for c in inp.children:
            away = [(u.from_, u.to) for u in inp.unavailable if u.child_id == c.child_id]
            for n in inp.nights:
                if not (start <= n <= end and c.vedtak_from <= n <= c.vedtak_to):
                    continue
                if any(lo <= n <= hi for lo, hi in away):
                    continue
                for h in inp.houses:
                    fits = c.category in h.categories or c.category in h.conditional_categories
                    watch = h.night_watch or c.category not in ("3", "4", "5")
                    home = (str(h.kind) == "barnebolig") == (c.level == 6)
                    if fits and watch and home:
                        self.x[(c.child_id, h.house_id, n)] = m.new_bool_var("")
        x = self.x
        for c in inp.children:
            mine = {k: v for k, v in x.items() if k[0] == c.child_id}
            m.add(sum(mine.values()) <= c.granted_nights)  # R5
            away = [(u.from_, u.to) for u in inp.unavailable if u.child_id == c.child_id]
            for n in inp.nights:
                tonight = [v for k, v in mine.items() if k[2] == n]
                m.add(sum(tonight) <= 1)  # R1_ONE_PLACE
                available = c.vedtak_from <= n <= c.vedtak_to and not any(
                    lo <= n <= hi for lo, hi in away
                )
                if c.level == 6 and available:  # R4_BARNEBOLIG_EVERY_NIGHT
                    if tonight:
                        m.add(sum(tonight) == 1)
                    else:
                        m.add_bool_or([])  # no barnebolig can take the child: no valid plan
        for h in inp.houses:
            for n in inp.nights:
                closed = sum(
                    k.places_closed
                    for k in inp.closures
                    if k.house_id == h.house_id and k.from_ <= n <= k.to
                )
                cap = max(0, h.places - closed - inp.config.acute_reserve.get(h.house_id, 0))
                m.add(sum(v for k, v in x.items() if k[1] == h.house_id and k[2] == n) <= cap)
            if str(h.kind) == "avlastningsbolig":
                budget = budget_nights(h.places, h.nights_per_place_year, inp.config.n_nights)
                m.add(sum(v for k, v in x.items() if k[1] == h.house_id) <= budget)  # R3
        for pair in inp.incompatible:  # R6
            for h in inp.houses:
                for n in inp.nights:
                    a = x.get((pair.child_a, h.house_id, n))
                    b = x.get((pair.child_b, h.house_id, n))
                    if a is not None and b is not None:
                        m.add(a + b <= 1)

    def _solver(self) -> cp_model.CpSolver:
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 1
        return solver

    def accepts(self, plan: list[Booking]) -> bool:
        """Whether the plan satisfies every rule (fix the variables and test feasibility)."""
        keys = {(b.child_id, b.house_id, b.night) for b in plan}
        if len(keys) != len(plan) or not keys <= self.x.keys():
            return False
        fixed = self.model.clone()
        for key, var in self.x.items():
            fixed.add(fixed.get_bool_var_from_proto_index(var.index) == int(key in keys))
        return self._solver().solve(fixed) in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    def optimum(self) -> tuple[int, list[Booking]] | None:
        """The most nights any valid plan gives, and one such plan; None if no plan is valid."""
        self.model.maximize(sum(self.x.values()))
        solver = self._solver()
        status = solver.solve(self.model)
        self.model.clear_objective()
        if status == cp_model.INFEASIBLE:
            return None
        assert status == cp_model.OPTIMAL
        plan = [Booking(*key) for key, v in self.x.items() if solver.value(v)]
        return int(solver.objective_value), plan


def _draw_round(tiny: type[Tiny], data: st.DataObject, *, level6: bool, pairs: bool) -> RoundInput:
    """A random tiny round: 1-2 houses, 1-3 children, the round's 7 nights."""
    draw = data.draw
    houses = [
        tiny.house(
            f"H{i}",
            kind=draw(st.sampled_from(["avlastningsbolig", "barnebolig"]))
            if level6
            else "avlastningsbolig",
            places=draw(st.integers(0, 3)),
            categories=draw(st.sampled_from(["2", "2;3", "3;4", "4;5", "2;3;4;5"])),
            conditional_categories=draw(st.sampled_from(["", "P"])),
            night_watch=draw(st.booleans()),
            nights_per_place_year=draw(st.integers(0, 366)),
        )
        for i in range(1, draw(st.integers(1, 2)) + 1)
    ]
    children = []
    unavailable = []
    n_children = draw(st.integers(1, 3))
    for i in range(1, n_children + 1):
        first = draw(st.integers(4, 10))
        children.append(
            tiny.child(
                f"B{i:04d}",
                category=draw(st.sampled_from(["2", "3", "4", "5", "P"])),
                level=draw(st.integers(1, 6 if level6 else 5)),
                granted_nights=draw(st.integers(0, 7)),
                vedtak_from=tiny.night(first),
                vedtak_to=tiny.night(draw(st.integers(first, 10))),
            )
        )
        if draw(st.booleans()):
            lo = draw(st.integers(4, 10))
            unavailable.append(tiny.unavailable(f"B{i:04d}", lo, draw(st.integers(lo, 10))))
    closures = []
    if draw(st.booleans()):
        lo = draw(st.integers(4, 10))
        closures.append(tiny.closure("H1", lo, draw(st.integers(lo, 10)), draw(st.integers(0, 2))))
    incompatible = []
    if pairs and n_children >= 2 and draw(st.booleans()):
        incompatible.append(tiny.incompatible("B0001", "B0002"))
    return tiny.round(
        houses=houses,
        children=children,
        unavailable=unavailable,
        closures=closures,
        incompatible=incompatible,
        acute_reserve={"H1": draw(st.integers(0, 1))},
    )


_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_SETTINGS
@given(data=st.data())
def test_bound_equals_exact_optimum_without_pairs_or_level6(
    tiny: type[Tiny], data: st.DataObject
) -> None:
    # `tiny` only hands out builder functions: nothing to reset between examples.
    inp = _draw_round(tiny, data, level6=False, pairs=False)
    result = _Oracle(inp).optimum()
    assert result is not None  # the empty plan is valid when no child has level 6
    optimum, plan = result
    assert check_plan(inp, plan) == []
    assert max_flow_bound(inp) == optimum


@_SETTINGS
@given(data=st.data())
def test_bound_is_an_upper_bound(tiny: type[Tiny], data: st.DataObject) -> None:
    inp = _draw_round(tiny, data, level6=True, pairs=True)
    result = _Oracle(inp).optimum()
    if result is not None:
        optimum, plan = result
        assert check_plan(inp, plan) == []
        assert optimum <= max_flow_bound(inp)


@_SETTINGS
@given(data=st.data())
def test_random_plan_is_valid_iff_oracle_accepts(tiny: type[Tiny], data: st.DataObject) -> None:
    inp = _draw_round(tiny, data, level6=data.draw(st.booleans()), pairs=True)
    combos = [
        Booking(c.child_id, h.house_id, n)
        for c in inp.children
        for h in inp.houses
        for n in inp.nights
    ]
    plan = data.draw(st.lists(st.sampled_from(combos), max_size=10))
    violations = check_plan(inp, plan)
    assert (violations == []) == _Oracle(inp).accepts(plan), violations
