"""A steady rhythm (the long_gaps term) and the large neighbourhood search, on tiny rounds.

The rhythm term on a round with its optimum worked out; the search's neighbourhoods hold every
night outside them; the search never makes the round's objective worse and its plans pass the
independent checker.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from conftest import solve_checked
from factories import MONDAY, child, house, round_input

from allocator.check import check_plan, compute_figures
from allocator.cpsat.variables import Key
from allocator.decompose import DecomposedRun, _last_swaps, house_groups, last_swaps_share
from allocator.evaluate import evaluate_terms
from allocator.generate import generate_round
from allocator.hint import greedy_plan
from allocator.instance import Instance, build_instance, sub_instance, with_demand_scale
from allocator.lns import improve
from allocator.rhythm import even_gap, rhythm_windows
from allocator.solve import Interrupt, SolveParams, bookings_of, monolithic_instance
from allocator.swaps import swap_nights
from models.config import ObjectiveWeights
from models.outputs import Booking
from models.round_input import RoundInput


def test_rhythm_spreads_stays_over_the_round():
    # 28 nights, granted 12 in the "any" pattern (usual stay 4): three stays, even gap 28/3 ≈ 9.3
    # nights, rhythm windows of 14 nights starting on nights 0, 7 and 14. Without the rhythm
    # term one 7-night stay and one 5-night stay cost least (two stays); with it every window
    # must hold a night, so the stays cannot all sit in one half of the round.
    weights = ObjectiveWeights(long_gap=500)
    inp = round_input([house(places=1)], [child("B0001", 12)], nights=28, weights=weights)
    inst = build_instance(inp)
    assert even_gap(inst.children[0]) is not None
    windows = rhythm_windows(inst.children[0])
    assert [w[0] for w in windows] == [0, 7, 14]
    result = solve_checked(inp)
    booked = {(b.night - MONDAY).days for b in result.bookings}
    assert len(booked) == 12
    assert all(booked & set(w) for w in windows), sorted(booked)
    assert result.term_values["long_gaps"] == 0
    figures = compute_figures(inp, result.bookings)
    assert figures.steady_rhythm_share == 1.0 or figures.families_rhythm == 0


def test_a_window_neighbourhood_holds_every_night_outside_it():
    inp = round_input([house(places=2)], [child("A0001", 6), child("B0002", 6)], nights=14)
    inst = build_instance(inp)
    plan = {(0, 0, n) for n in (0, 1, 2, 9, 10, 11)} | {(1, 0, n) for n in (3, 4, 5, 6, 7, 8)}
    sub = sub_instance(inst, [0, 1], plan, window=(4, 8))
    a, b = sub.instance.children
    assert a.pinned == {(0, n) for n in (0, 1, 2, 9, 10, 11)}
    assert b.pinned == {(0, n) for n in (3,)}
    assert all(a.offered(n) == (n in {0, 1, 2, 9, 10, 11} or 4 <= n <= 8) for n in range(14))


def test_windows_of_a_family_off_its_pattern_are_often_around_those_nights():
    # A short family wants every free night, so a window around a night it wants is seldom
    # near the Sunday a weekend family holds off its pattern; half the windows of such a
    # family are centred on those nights, where a family with no pattern can trade it a
    # Saturday (at demand 115% weekend families had 12% of their nights off Friday/Saturday).
    import random

    from allocator.lns import window_around

    inp = round_input(
        [house(places=2)],
        [child("W0001", 30, pattern="weekend"), child("A0002", 30)],
        nights=182,
    )
    inst = build_instance(inp)
    sunday = 6 + 7 * 12
    assert inp.nights[sunday].weekday() == 6
    nights = {0: {4, 5, sunday}, 1: set(range(20, 26))}
    rng = random.Random(3)
    draws = [window_around(inst, 0, nights, rng, length=14) for _ in range(200)]
    around = sum(1 for first, last in draws if first <= sunday <= last)
    assert around >= 80  # about half; a window around a wanted night holds it 1 time in 13


def test_search_keeps_the_plan_valid_and_never_worse():
    inp = generate_round(scale=0.15, seed=5)
    inst = build_instance(inp)
    weights = inp.config.weights
    params = SolveParams(time_limit=6.0, workers=1, seed=2)
    run = DecomposedRun(inst, weights, params, None, Interrupt())
    run.plan = greedy_plan(inst)
    before = sum(evaluate_terms(inst, weights, run.plan).values())
    nights_before = len(run.plan)
    worst_before = inst.worst_share(Counter(c for c, _h, _n in run.plan))
    groups = house_groups(inst, {c: h for c, h, _n in run.plan})
    stats = improve(run, groups, seed=3)
    after = sum(evaluate_terms(inst, weights, run.plan).values())
    assert stats.neighbourhoods > 0
    assert stats.improved > 0
    assert after < before
    # Every step is judged by the round's objective: the gains it counted are the round's.
    assert before - after == stats.gain
    assert len(run.plan) >= nights_before
    assert inst.worst_share(Counter(c for c, _h, _n in run.plan)) >= worst_before
    assert check_plan(inp, bookings_of(inst, run.plan)) == []


def test_search_stops_at_ctrl_c():
    inp = generate_round(scale=0.15, seed=5)
    inst = build_instance(inp)
    run = DecomposedRun(inst, inp.config.weights, SolveParams(time_limit=30.0), None, Interrupt())
    run.plan = greedy_plan(inst)
    run.interrupt.requested = True
    stats = improve(run, house_groups(inst, {c: h for c, h, _n in run.plan}), seed=1)
    assert stats.neighbourhoods == 0
    assert check_plan(inp, bookings_of(inst, run.plan)) == []


def _bookings_at(nights: list[int]) -> list[Booking]:
    return [Booking("B0001", "h1", MONDAY + dt.timedelta(days=n)) for n in nights]


def test_checker_sees_a_break_in_the_rhythm():
    # Stays starting on nights 0, 9, 18 and 27 (two nights each) are even; starting on 0, 3, 6
    # and 27 the last gap (21 nights) is over twice the mean gap (9): a break in the rhythm.
    inp = round_input([house(places=1)], [child("B0001", 8)], nights=30)
    even = compute_figures(inp, _bookings_at([0, 1, 9, 10, 18, 19, 27, 28]))
    bunched = compute_figures(inp, _bookings_at([0, 1, 3, 4, 6, 7, 27, 28]))
    assert (even.families_rhythm, even.steady_rhythm_share) == (1, 1.0)
    assert (bunched.families_rhythm, bunched.steady_rhythm_share) == (1, 0.0)


def _tiny_optimum_round():
    """One house with two places, three families, two weeks: small enough that CP-SAT proves
    the optimum, and that a neighbourhood of three children is the whole round."""
    return round_input(
        [house(places=2)],
        [child("A0001", 6), child("B0002", 5, pattern="weekend"), child("C0003", 7)],
        nights=14,
    )


def test_search_reaches_the_known_optimum_on_a_tiny_round():
    inp = _tiny_optimum_round()
    # The objective the monolithic optimum is measured in, so that the two compare.
    inst = monolithic_instance(build_instance(inp), inp.config.weights)
    weights = inp.config.weights
    optimum = solve_checked(inp)
    assert optimum.status.name == "OPTIMAL"
    run = DecomposedRun(inst, weights, SolveParams(time_limit=5.0, workers=1), None, Interrupt())
    run.plan = greedy_plan(inst)
    start = sum(evaluate_terms(inst, weights, run.plan).values())
    improve(run, house_groups(inst, {c: h for c, h, _n in run.plan}), seed=1)
    reached = sum(evaluate_terms(inst, weights, run.plan).values())
    assert start > optimum.objective  # the greedy plan is not optimal: there is work to do
    assert reached == optimum.objective
    assert check_plan(inp, bookings_of(inst, run.plan)) == []


def test_search_gives_back_an_optimal_plan_unchanged():
    inp = _tiny_optimum_round()
    # The objective the monolithic optimum is measured in, so that the two compare.
    inst = monolithic_instance(build_instance(inp), inp.config.weights)
    optimum = solve_checked(inp)
    house_of = {h.house_id: h.idx for h in inst.houses}
    child_of = {c.child_id: c.idx for c in inst.children}
    plan = {
        (child_of[b.child_id], house_of[b.house_id], inst.night_index(b.night))
        for b in optimum.bookings
    }
    run = DecomposedRun(
        inst, inp.config.weights, SolveParams(time_limit=2.0, workers=1), None, Interrupt()
    )
    run.plan = set(plan)
    stats = improve(run, house_groups(inst, {c: h for c, h, _n in plan}), seed=1)
    assert stats.neighbourhoods > 0
    assert stats.improved == 0
    assert run.plan == plan


def test_search_plan_is_valid_after_every_accepted_step(monkeypatch):
    inp = generate_round(scale=0.15, seed=5)
    inst = build_instance(inp)
    run = DecomposedRun(
        inst, inp.config.weights, SolveParams(time_limit=4.0, workers=1, seed=2), None, Interrupt()
    )
    run.plan = greedy_plan(inst)
    violations: list[int] = []
    take = DecomposedRun.take_result

    def checked_take(self, sub, result):  # type: ignore[no-untyped-def]
        take(self, sub, result)
        violations.append(len(check_plan(inp, bookings_of(inst, self.plan))))

    monkeypatch.setattr(DecomposedRun, "take_result", checked_take)
    improve(run, house_groups(inst, {c: h for c, h, _n in run.plan}), seed=3)
    assert violations, "no step was accepted"
    assert violations == [0] * len(violations)


def _swapped_round() -> tuple[RoundInput, Instance, set[Key]]:
    """A small generated round and its greedy plan after the moves and swaps."""
    inp = generate_round(scale=0.15, seed=5)
    inst = build_instance(inp)
    greedy = greedy_plan(inst)
    weights = inp.config.weights
    return inp, inst, swap_nights(with_demand_scale(inst, greedy), weights, greedy, time_limit=20)


def test_the_search_leaves_its_last_seconds_to_moves_at_the_plans_own_share_level():
    # Fair shares are measured at the level of the plan as it ends. The search stops early
    # enough for the moves and swaps to run again at that level (`_last_swaps`).
    inp, inst, swapped = _swapped_round()
    weights = inp.config.weights
    limit = 4.0
    run = DecomposedRun(inst, weights, SolveParams(time_limit=limit, workers=1), None, Interrupt())
    run.plan = swapped
    run.inst = with_demand_scale(inst, swapped)

    improve(
        run, house_groups(inst, {c: h for c, h, _n in run.plan}), 1, 1 - last_swaps_share(limit)
    )

    assert run.left() >= 1.0
    _last_swaps(run)
    assert check_plan(inp, bookings_of(inst, run.plan)) == []


def test_the_last_passes_end_at_a_fixed_point_of_the_share_level():
    # Given the time, the passes end at the first that changes nothing: the plan is then at a
    # fixed point, where the moves at its own share level find nothing more.
    inp, inst, swapped = _swapped_round()
    weights = inp.config.weights
    run = DecomposedRun(inst, weights, SolveParams(time_limit=120, workers=1), None, Interrupt())
    run.plan = swapped
    _last_swaps(run)
    assert run.left() > 0, "the passes reached no fixed point before the time was up"
    at_its_level = with_demand_scale(inst, run.plan)
    assert run.inst.demand_scale == at_its_level.demand_scale
    assert swap_nights(at_its_level, weights, run.plan, time_limit=20) == run.plan
    assert check_plan(inp, bookings_of(inst, run.plan)) == []


def test_a_pass_that_moved_nights_is_followed_by_one_at_the_new_level(monkeypatch):
    # A share is the family's part of what its pattern's families get together, so moving a
    # holiday night changes every share of that kind: the pass after it prices its moves at
    # the new level. Passes stop at the first that changes nothing.
    import allocator.decompose as decompose

    inp = generate_round(scale=0.15, seed=5)
    inst = build_instance(inp)
    start = greedy_plan(inst)
    holidays = set().union(*(n for k, n in inst.demand.items() if k != "weekend"))
    victim = min(key for key in start if key[2] in holidays)
    moved = start - {victim}
    levels: list[dict[tuple[str, str], float]] = []
    kept_levels: list[dict[tuple[str, str], float]] = []
    passes = [moved]

    def fake_swaps(inst_, _weights, plan, _seconds, _stop, keep_level=False):  # type: ignore[no-untyped-def]
        (kept_levels if keep_level else levels).append(dict(inst_.demand_scale))
        return set(passes.pop()) if passes and not keep_level else set(plan)

    monkeypatch.setattr(decompose, "swap_nights", fake_swaps)
    run = DecomposedRun(
        inst, inp.config.weights, SolveParams(time_limit=60.0, workers=1), None, Interrupt()
    )
    run.plan = set(start)
    _last_swaps(run)
    assert len(levels) == 2
    assert levels[0] == with_demand_scale(inst, start).demand_scale
    assert levels[1] == with_demand_scale(inst, moved).demand_scale
    assert levels[0] != levels[1]
    # After each pass, one that keeps the level runs at the level that pass left.
    assert kept_levels == [levels[1], levels[1]]
    # One night fewer is worse at any level: the plan the passes started from is kept.
    assert run.plan == start


def test_the_last_passes_keep_the_best_plan_at_its_own_level(monkeypatch):
    # A pass gains at the level it starts from, and the level it leaves can make its plan
    # worse at its own: the passes keep the best plan they made, measured at its own level.
    import allocator.decompose as decompose

    inp, inst, better = _swapped_round()
    weights = inp.config.weights
    start = greedy_plan(inst)
    holidays = set().union(*(n for k, n in inst.demand.items() if k != "weekend"))

    def at_own_level(plan: set[Key]) -> int:
        return sum(evaluate_terms(with_demand_scale(inst, plan), weights, plan).values())

    # A holiday night taken out: the first whose loss the plan feels at its own level.
    worse = next(
        cut
        for key in sorted(k for k in better if k[2] in holidays)
        if at_own_level(cut := better - {key}) > at_own_level(better)
    )
    at_own = {
        name: at_own_level(plan)
        for name, plan in (("start", start), ("better", better), ("worse", worse))
    }
    assert at_own["better"] < min(at_own["start"], at_own["worse"])
    passes = [worse, worse, better]

    def fake_swaps(_inst, _weights, plan, _seconds, _stop, keep_level=False):  # type: ignore[no-untyped-def]
        return set(passes.pop()) if passes and not keep_level else set(plan)

    monkeypatch.setattr(decompose, "swap_nights", fake_swaps)
    run = DecomposedRun(inst, weights, SolveParams(time_limit=60.0, workers=1), None, Interrupt())
    run.plan = set(start)
    _last_swaps(run)
    assert passes == []
    assert run.plan == better


def test_the_search_weighs_shares_lightly_and_the_last_moves_in_full(monkeypatch):
    # The neighbourhood search prices shares at a level set before its moves, and a share's
    # level drifts as nights move between patterns: it weighs a night beyond a share at a
    # quarter (`search_weights`), and the last moves, at the plan's own level, in full.
    import allocator.decompose as decompose

    inp = generate_round(scale=0.15, seed=5)
    inst = build_instance(inp)
    weights = inp.config.weights
    seen: dict[str, int] = {}
    search, last = decompose.improve, decompose._last_swaps

    def recording_search(run, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen["search"] = run.weights.share_deviation_night
        return search(run, *args, **kwargs)

    def recording_last(run):  # type: ignore[no-untyped-def]
        seen["last"] = run.weights.share_deviation_night
        last(run)

    monkeypatch.setattr(decompose, "improve", recording_search)
    monkeypatch.setattr(decompose, "_last_swaps", recording_last)
    result = decompose.solve_decomposed(
        inst, weights, SolveParams(time_limit=6.0, workers=1, seed=1)
    )
    assert seen == {
        "search": weights.share_deviation_night // decompose.SEARCH_SHARE_DIVISOR,
        "last": weights.share_deviation_night,
    }
    assert check_plan(inp, result.bookings) == []
    # The round's objective is reported at its own weights.
    child_of = {ch.child_id: ch.idx for ch in inst.children}
    house_of = {h.house_id: h.idx for h in inst.houses}
    final = {
        (child_of[b.child_id], house_of[b.house_id], inst.night_index(b.night))
        for b in result.bookings
    }
    at_level = with_demand_scale(inst, final)
    assert result.objective == sum(evaluate_terms(at_level, weights, final).values())
