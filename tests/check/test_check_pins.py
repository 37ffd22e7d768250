"""R7_PINS in the independent checker: a pinned night must be booked in its house, a forbidden
night never."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import MONDAY, child, house, round_input

from allocator.check import check_plan
from models.inputs import Pin
from models.outputs import Booking
from models.round_input import RoundInput
from models.rules import Rule


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


def _round(*pins: Pin) -> RoundInput:
    base = round_input([house("h1"), house("h2")], [child("B0001", 4)])
    return RoundInput(config=base.config, houses=base.houses, children=base.children, pins=pins)


def _pin(house_id: str | None, first: int, last: int, kind: str) -> Pin:
    return Pin.model_validate(
        {
            "child_id": "B0001",
            "house_id": house_id,
            "from": day(first),
            "to": day(last),
            "kind": kind,
        }
    )


def test_pinned_nights_booked_in_their_house_pass():
    inp = _round(_pin("h1", 1, 2, "pin"))
    assert check_plan(inp, [Booking("B0001", "h1", day(1)), Booking("B0001", "h1", day(2))]) == []


def test_a_pinned_night_in_another_house_or_missing_is_r7():
    inp = _round(_pin("h1", 1, 2, "pin"))
    violations = check_plan(inp, [Booking("B0001", "h2", day(1))])
    assert [v.rule for v in violations] == [Rule.R7_PINS, Rule.R7_PINS]


def test_a_booking_on_a_forbidden_night_is_r7():
    inp = _round(_pin(None, 3, 3, "forbid"))
    violations = check_plan(inp, [Booking("B0001", "h2", day(3))])
    assert [v.rule for v in violations] == [Rule.R7_PINS]
