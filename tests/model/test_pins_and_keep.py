"""Pins, forbidden nights, hard avoid-dates and ``--keep`` on tiny rounds (Monday 4 January)."""

from __future__ import annotations

import datetime as dt

from conftest import solve_checked
from factories import MONDAY, child, house, round_input, wish

from allocator.instance import build_instance
from allocator.solve import SolveParams, solve_round
from models.inputs import Pin
from models.outputs import Booking
from models.round_input import RoundInput


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


def pin(child_id: str, house_id: str | None, first: int, last: int, kind: str) -> Pin:
    return Pin.model_validate(
        {
            "child_id": child_id,
            "house_id": house_id,
            "from": day(first),
            "to": day(last),
            "kind": kind,
        }
    )


def with_pins(inp: RoundInput, *pins: Pin) -> RoundInput:
    return RoundInput(
        config=inp.config,
        houses=inp.houses,
        children=inp.children,
        wishes=inp.wishes,
        pins=tuple(pins),
    )


def test_a_pinned_stay_is_kept_even_off_the_home_house():
    # Granted 3, home h1; the coordinator pinned Tuesday–Wednesday in h2: those two nights are
    # in h2 whatever the home house, and one more night comes on top.
    inp = with_pins(
        round_input([house("h1"), house("h2")], [child("B0001", 3, home_house="h1")]),
        pin("B0001", "h2", 1, 2, "pin"),
    )
    result = solve_checked(inp)
    booked = {(b.house_id, b.night) for b in result.bookings}
    assert {("h2", day(1)), ("h2", day(2))} <= booked
    assert len(result.bookings) == 3


def test_a_forbidden_night_is_never_booked():
    # Granted 7 of 7 nights, but Thursday is forbidden in every house: 6 nights, none Thursday.
    inp = with_pins(
        round_input([house("h1")], [child("B0001", 7)]), pin("B0001", None, 3, 3, "forbid")
    )
    result = solve_checked(inp)
    assert day(3) not in {b.night for b in result.bookings}
    assert len(result.bookings) == 6


def test_avoid_dates_are_never_booked_even_when_it_costs_a_night():
    # Granted 7 of 7 nights; the family avoids Monday: 6 nights and Monday free.
    inp = round_input(
        [house("h1")], [child("B0001", 7)], wishes=[wish("B0001", day(0), day(0), kind="avoid")]
    )
    result = solve_checked(inp)
    assert day(0) not in {b.night for b in result.bookings}


def test_keep_moves_as_few_nights_as_it_can():
    # The kept plan has B0001 on Wednesday–Friday in h1. Re-planned with nothing changed, every
    # kept night stays where it was (any other placement of 3 nights would move some).
    inp = round_input([house("h1"), house("h2")], [child("B0001", 3)])
    kept = [Booking("B0001", "h1", day(i)) for i in (2, 3, 4)]
    inst = build_instance(inp, previous=kept)
    result = solve_round(inst, inp.config.weights, SolveParams(time_limit=5, workers=1))
    assert sorted(result.bookings) == sorted(kept)
    assert result.term_values["moved_nights"] == 0
