"""``plan --improve``: more time for a plan that exists (`allocator.decompose.polish_plan`).

A tiny round with a poor plan (a weekend family on Sundays and a lone Friday) must come back
with the family's nights on Friday/Saturday, as good as the monolithic model's proven optimum;
a plan that is already optimal must not come back worse; a plan the round could not make is
refused with the rows that are wrong.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from factories import MONDAY, child, house, round_input

from allocator.check import check_plan
from allocator.instance import build_instance
from allocator.io.errors import InputError
from allocator.pipeline import improve_round
from allocator.result import SolveStatus
from allocator.solve import SolveParams, solve_round
from models.outputs import Booking
from models.round_input import RoundInput

PARAMS = SolveParams(time_limit=5.0, workers=1, seed=1)


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


def four_weeks() -> RoundInput:
    """One house with two places, four weeks: a weekend family (4 nights) and a family with
    no pattern (6 nights)."""
    return round_input(
        [house("h1", places=2)],
        [child("B0001", 4, pattern="weekend"), child("B0002", 6)],
        nights=28,
    )


def poor_plan() -> list[Booking]:
    # B0001: three lone Sundays and a lone Friday (four single stays, three off its pattern).
    weekend_family = [Booking("B0001", "h1", day(i)) for i in (6, 13, 20, 25)]
    other = [Booking("B0002", "h1", day(i)) for i in (0, 1, 2, 7, 8, 9)]
    return weekend_family + other


def test_improve_lays_a_weekend_familys_nights_on_fridays_and_saturdays() -> None:
    inp = four_weeks()
    outcome = improve_round(inp, PARAMS, poor_plan())

    assert outcome.result.status.has_plan
    assert outcome.result.method == "polish"
    assert outcome.violations == []
    assert check_plan(inp, outcome.result.bookings) == []
    nights = Counter(b.child_id for b in outcome.result.bookings)
    assert nights == {"B0001": 4, "B0002": 6}
    weekend_family = sorted(b.night for b in outcome.result.bookings if b.child_id == "B0001")
    assert all(n.weekday() in (4, 5) for n in weekend_family), weekend_family
    # As good as the whole round solved to a proven optimum.
    best = solve_round(build_instance(inp), inp.config.weights, PARAMS)
    assert best.status is SolveStatus.OPTIMAL
    assert outcome.result.objective == pytest.approx(best.objective)


def test_improve_never_returns_a_worse_plan() -> None:
    inp = four_weeks()
    best = solve_round(build_instance(inp), inp.config.weights, PARAMS)
    outcome = improve_round(inp, SolveParams(time_limit=1.0, workers=1, seed=2), best.bookings)

    assert outcome.violations == []
    assert outcome.result.objective <= best.objective
    assert Counter(b.child_id for b in outcome.result.bookings) == Counter(
        b.child_id for b in best.bookings
    )


def test_improve_refuses_a_plan_the_round_cannot_make() -> None:
    inp = four_weeks()
    plan = [
        *poor_plan(),
        Booking("B0003", "h1", day(3)),  # no such child
        Booking("B0002", "h1", day(40)),  # after the round
        Booking("B0002", "h1", day(3), kind="acute"),  # an acute stay is not the round's
    ]
    with pytest.raises(InputError) as caught:
        improve_round(inp, PARAMS, plan, source="plan/bookings.csv")
    rows = [(p.file, p.row) for p in caught.value.problems]
    assert rows == [("plan/bookings.csv", 12), ("plan/bookings.csv", 13), ("plan/bookings.csv", 14)]
    assert "B0003" in caught.value.problems[0].message
    assert "acute" in caught.value.problems[2].message


def test_improve_refuses_a_plan_that_breaks_a_hard_rule() -> None:
    inp = four_weeks()
    over_grant = [*poor_plan(), Booking("B0002", "h1", day(3)), Booking("B0002", "h1", day(4))]
    with pytest.raises(InputError) as caught:
        improve_round(inp, PARAMS, over_grant)
    assert [str(p) for p in caught.value.problems] == [
        "bookings.csv: breaks R5_GRANTED: child B0002 is booked 8 nights, granted 6"
    ]


def test_improve_gives_nights_to_a_child_the_plan_left_without() -> None:
    inp = four_weeks()
    without_b0002 = [b for b in poor_plan() if b.child_id != "B0002"]
    outcome = improve_round(inp, PARAMS, without_b0002)

    assert outcome.violations == []
    assert Counter(b.child_id for b in outcome.result.bookings) == {"B0001": 4, "B0002": 6}
