"""The house pass's search settings for a full house: stage 1 breaks its ties towards the
greedy plan, in stage 1's own units, and stage 2 with neighbourhood workers only still gives a
valid plan."""

from __future__ import annotations

from factories import child, house, round_input
from ortools.sat.python import cp_model

from allocator.check import check_plan
from allocator.cpsat.build import build_round_model
from allocator.instance import build_instance
from allocator.solve import SolveParams, _near_start, solve_monolithic
from models.round_input import RoundInput


def _one_place_two_children() -> RoundInput:
    # Seven nights of one place, two children granted three nights each: every plan that gives
    # both their three nights is equally good for stage 1.
    return round_input([house("h1", places=1)], [child("B0001", 3), child("B0002", 3)], nights=7)


def test_stage1_keeps_the_start_plan_among_equally_good_plans() -> None:
    inp = _one_place_two_children()
    inst = build_instance(inp)
    rm = build_round_model(inst, inp.config.weights)
    # A start plan no search would come to by itself: the children take turns night by night.
    start = {(0, 0, 0), (1, 0, 1), (0, 0, 2), (1, 0, 3), (0, 0, 4), (1, 0, 5)}
    objective, _scale = _near_start(rm, start)
    rm.model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(rm.model) == cp_model.OPTIMAL
    plan = {key for key, var in rm.variables.night.items() if solver.value(var)}
    assert plan == start


def test_stage1_reports_its_own_level_with_the_tie_break() -> None:
    inp = _one_place_two_children()
    inst = build_instance(inp)
    plain, tied = (
        solve_monolithic(
            inst,
            inp.config.weights,
            SolveParams(time_limit=5.0, workers=1, stage1_near_start=near),
        )
        for near in (False, True)
    )
    assert plain.stages[0].objective == tied.stages[0].objective
    assert plain.stages[0].best_bound == tied.stages[0].best_bound
    assert len(tied.bookings) == 6
    assert check_plan(inp, tied.bookings) == []


def test_stage2_with_neighbourhood_workers_only_keeps_stage1s_nights() -> None:
    inp = round_input(
        [house("h1", places=2)],
        [child("B0001", 4), child("B0002", 5, pattern="weekdays"), child("B0003", 4)],
        nights=14,
    )
    inst = build_instance(inp)
    params = SolveParams(time_limit=4.0, workers=2, stage1_near_start=True, stage2_lns_only=True)
    result = solve_monolithic(inst, inp.config.weights, params)
    assert result.status.has_plan
    assert check_plan(inp, result.bookings) == []
    assert len(result.bookings) == 13


def test_stage1_books_the_nights_the_start_misses_next_to_its_stays() -> None:
    # One place, seven nights, one child granted three; the start gives it Wednesday and
    # Thursday. Every plan with three nights is as good for stage 1; of those that keep the
    # start, the tie-break takes the third night next to the stay, not on its own.
    inp = round_input([house("h1", places=1)], [child("B0001", 3)], nights=7)
    inst = build_instance(inp)
    rm = build_round_model(inst, inp.config.weights)
    start = {(0, 0, 2), (0, 0, 3)}
    objective, _scale = _near_start(rm, start)
    rm.model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(rm.model) == cp_model.OPTIMAL
    nights = sorted(n for (_c, _h, n), var in rm.variables.night.items() if solver.value(var))
    assert nights in ([1, 2, 3], [2, 3, 4])
