"""Properties of every solved round, on random tiny rounds drawn by hypothesis.

A round: 1–2 houses with 1–2 places (categories among 2, 3, 4, perhaps a conditional one), 1–4
children (pseudonyms B0001, ...) with random category, level 1–5, grant 0–7, pattern, home
house, unavailable range, wish, incompatible pair, acute reserve and closure, over 5–7 nights.
Each plan must hold every hard rule by the independent checker, never give more than granted or
more than the max-flow bound, and the solver's objective terms must equal the terms recomputed
from the plan alone (`evaluate_terms`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from factories import MONDAY, child, closure, house, round_input, unavailable, wish
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.check import check_plan, max_flow_bound
from allocator.cpsat.variables import Key
from allocator.evaluate import ChildCosts, evaluate_terms
from allocator.instance import Instance, build_instance
from allocator.result import Result
from allocator.solve import SolveParams, solve_round
from models.outputs import Booking
from models.round_input import RoundInput

CATEGORIES = ("2", "3", "4")
PATTERNS = ("weekend", "week", "weekdays", "any")

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


@st.composite
def night_range(draw: st.DrawFn, n_nights: int) -> tuple[dt.date, dt.date]:
    first = draw(st.integers(0, n_nights - 1))
    last = draw(st.integers(first, n_nights - 1))
    return day(first), day(last)


@st.composite
def tiny_rounds(draw: st.DrawFn) -> RoundInput:
    n_nights = draw(st.integers(5, 7))

    houses = []
    for h in range(draw(st.integers(1, 2))):
        categories = draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))
        others = [c for c in CATEGORIES if c not in categories]
        conditional = draw(st.sampled_from(["", *others]))
        houses.append(
            house(
                f"h{h + 1}",
                places=draw(st.integers(1, 2)),
                categories=";".join(sorted(categories)),
                conditional_categories=conditional,
                night_watch=draw(st.sampled_from([True, True, True, False])),
                nights_per_place_year=draw(st.sampled_from([350, 365])),
            )
        )
    house_ids = [h.house_id for h in houses]
    # Mostly a category some house takes (else most rounds are empty), sometimes any category.
    taken = sorted({c for h in houses for c in h.categories | h.conditional_categories})
    category = st.one_of(st.sampled_from(taken), st.sampled_from(CATEGORIES))

    children = []
    away, wishes = [], []
    for i in range(draw(st.integers(1, 4))):
        cid = f"B{i + 1:04d}"
        vedtak_from = day(draw(st.sampled_from([0, 0, 0, 1, 2])))
        children.append(
            child(
                cid,
                draw(st.integers(0, 7)),
                category=draw(category),
                level=draw(st.integers(1, 5)),
                pattern=draw(st.sampled_from(PATTERNS)),
                home_house=draw(st.sampled_from([None, *house_ids])),
                vedtak_from=vedtak_from,
            )
        )
        if draw(st.booleans()):
            first, last = draw(night_range(n_nights))
            away.append(unavailable(cid, first, last))
        if draw(st.booleans()):
            first, last = draw(night_range(n_nights))
            kind = draw(st.sampled_from(["want", "avoid"]))
            wishes.append(wish(cid, first, last, kind=kind, weight=draw(st.integers(1, 9))))

    incompatible = None
    if len(children) >= 2 and draw(st.booleans()):
        a, b = draw(st.lists(st.sampled_from(children), min_size=2, max_size=2, unique=True))
        incompatible = [(a.child_id, b.child_id)]

    acute_reserve = None
    reserve_house = draw(st.sampled_from([None, *houses]))
    if reserve_house is not None and reserve_house.places > 1:
        acute_reserve = {reserve_house.house_id: draw(st.integers(0, reserve_house.places - 1))}

    closures = None
    closed_house = draw(st.sampled_from([None, *houses]))
    if closed_house is not None:
        first, last = draw(night_range(n_nights))
        closed = draw(st.integers(1, closed_house.places))
        closures = [closure(closed_house.house_id, first, last, places_closed=closed)]

    return round_input(
        houses,
        children,
        nights=n_nights,
        acute_reserve=acute_reserve,
        unavailable=away,
        wishes=wishes,
        incompatible=incompatible,
        closures=closures,
    )


def solve(inp: RoundInput) -> tuple[Instance, Result]:
    inst = build_instance(inp)
    params = SolveParams(time_limit=5, workers=1, method="monolithic")
    return inst, solve_round(inst, inp.config.weights, params)


def plan_keys(inst: Instance, bookings: list[Booking]) -> set[Key]:
    child_of = {c.child_id: c.idx for c in inst.children}
    house_of = {h.house_id: h.idx for h in inst.houses}
    return {
        (child_of[b.child_id], house_of[b.house_id], inst.night_index(b.night)) for b in bookings
    }


@PROPERTY_SETTINGS
@given(tiny_rounds())
def test_every_plan_is_valid_and_its_terms_recompute(inp: RoundInput) -> None:
    inst, result = solve(inp)

    assert result.status.has_plan, result.conflicts
    assert check_plan(inp, result.bookings) == []
    allocated = Counter(b.child_id for b in result.bookings)
    for c in inp.children:
        assert allocated[c.child_id] <= c.granted_nights, c.child_id
    assert len(result.bookings) <= max_flow_bound(inp)
    keys = plan_keys(inst, result.bookings)
    assert len(keys) == len(result.bookings)
    assert evaluate_terms(inst, inp.config.weights, keys) == result.term_values


@settings(PROPERTY_SETTINGS, max_examples=8)
@given(tiny_rounds())
def test_same_seed_one_worker_gives_the_same_plan(inp: RoundInput) -> None:
    _inst, first = solve(inp)
    _inst, second = solve(inp)
    assert first.bookings == second.bookings


def bound_with_a_node_per_child_and_night(inp: RoundInput) -> int:
    """The max-flow bound over the plain network (a node per child and night, an arc to each
    eligible house's night), as a reference for the checker's aggregated one."""
    from ortools.graph.python.max_flow import SimpleMaxFlow

    from allocator.check.rules import available_nights, house_budget, is_eligible
    from allocator.check.rules import nightly_capacities as capacities

    flow = SimpleMaxFlow()
    source, sink, nodes = 0, 1, iter(range(2, 10_000))
    house_night: dict[tuple[str, dt.date], int] = {}
    for h in inp.houses:
        house_node = next(nodes)
        budget = house_budget(inp, h)
        caps = capacities(inp, h)
        flow.add_arc_with_capacity(house_node, sink, sum(caps) if budget is None else budget)
        for night, cap in zip(inp.nights, caps, strict=True):
            house_night[(h.house_id, night)] = next(nodes)
            flow.add_arc_with_capacity(house_night[(h.house_id, night)], house_node, cap)
    for c in inp.children:
        child_node = next(nodes)
        flow.add_arc_with_capacity(source, child_node, max(c.granted_nights, 0))
        for night in available_nights(inp, c):
            child_night = next(nodes)
            flow.add_arc_with_capacity(child_node, child_night, 1)
            for h in inp.houses:
                if is_eligible(c, h):
                    flow.add_arc_with_capacity(child_night, house_night[(h.house_id, night)], 1)
    assert flow.solve(source, sink) == SimpleMaxFlow.OPTIMAL
    return int(flow.optimal_flow())


@PROPERTY_SETTINGS
@given(tiny_rounds())
def test_the_aggregated_bound_equals_the_plain_networks(inp: RoundInput) -> None:
    assert max_flow_bound(inp) == bound_with_a_node_per_child_and_night(inp)


@PROPERTY_SETTINGS
@given(tiny_rounds(), st.data())
def test_a_familys_cost_is_the_same_asked_again_or_in_another_house(
    inp: RoundInput, data: st.DataObject
) -> None:
    """The moves and swaps price a family's nights through `ChildCosts`, which remembers the
    price of each set of nights it has seen: asked again (in another order), or for the same
    nights in another house, it must give what a fresh count gives, and over the whole plan
    the round's objective less the worst child's share."""
    inst = build_instance(inp)
    weights = inp.config.weights
    remembering = ChildCosts(inst, weights)
    n_nights, n_houses = len(inst.nights), len(inst.houses)
    for _ in range(3):
        plan: set[Key] = set()
        for ch in inst.children:
            nights = data.draw(
                st.dictionaries(st.integers(0, n_nights - 1), st.integers(0, n_houses - 1))
            )
            elsewhere = {n: (h + 1) % n_houses for n, h in nights.items()}
            for asked in (nights, dict(reversed(nights.items())), elsewhere):
                fresh = ChildCosts(inst, weights).cost_by_night(ch.idx, asked)
                assert remembering.cost_by_night(ch.idx, asked) == fresh
            plan |= {(ch.idx, h, n) for n, h in nights.items()}
        terms = evaluate_terms(inst, weights, plan)
        terms.pop("worst_child_share", None)
        by_child = {ch.idx: {n: h for c, h, n in plan if c == ch.idx} for ch in inst.children}
        assert sum(remembering.cost_by_night(c, nights) for c, nights in by_child.items()) == sum(
            terms.values()
        )
