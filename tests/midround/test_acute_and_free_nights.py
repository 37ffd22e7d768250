"""Acute stays, cancellations, free nights and offers on tiny hand-made plans (issue 6).

Every plan these functions return is checked by the independent checker.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import MONDAY, child, house, round_input

from allocator.acute import AcuteProposal, AcuteRefusal, place_acute
from allocator.check import check_plan
from allocator.free_nights import (
    as_child,
    cancel,
    free_by_category,
    free_nights,
    offer,
    overdue,
    priority_order,
)
from models.inputs import Pin
from models.outputs import Booking
from models.round_input import RoundInput
from models.waiting import WaitingApplication


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


def nights_of(child_id: str, house_id: str, first: int, last: int) -> list[Booking]:
    return [Booking(child_id, house_id, day(n)) for n in range(first, last + 1)]


def _two_houses(reserve: int = 1, pins: tuple[Pin, ...] = ()) -> RoundInput:
    # h1 takes category 2 and 3 (2 places, `reserve` kept for acute); h2 only category 3 (1 place).
    inp = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [child("A0001", 7, category="3"), child("B0002", 7, category="3"), child("C0003", 0)],
        acute_reserve={"h1": reserve},
    )
    return RoundInput(config=inp.config, houses=inp.houses, children=inp.children, pins=pins)


def test_acute_stay_goes_into_the_reserve_without_moving_anyone():
    inp = _two_houses(reserve=1)
    plan = nights_of("A0001", "h1", 0, 6)
    result = place_acute(inp, plan, inp.child("C0003"), day(2), day(4), today=day(0))
    assert isinstance(result, AcuteProposal)
    assert (result.house_id, result.used_reserve, result.moves) == ("h1", True, ())
    acute = [b for b in result.bookings if b.kind == "acute"]
    assert [b.night for b in acute] == [day(2), day(3), day(4)]
    assert check_plan(inp, list(result.bookings)) == []


def test_acute_stay_moves_the_fewest_nights_when_no_place_is_free():
    # h1 is full (A and B, no reserve); C (category 2) fits only h1. Moving one family's three
    # nights to h2 (which takes category 3) is the smallest change: 3 nights, 1 family.
    inp = _two_houses(reserve=0)
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h1", 0, 6)
    result = place_acute(inp, plan, inp.child("C0003"), day(2), day(4), today=day(0))
    assert isinstance(result, AcuteProposal)
    assert result.house_id == "h1" and not result.used_reserve
    assert len(result.moves) == 3
    assert result.families_touched == 1
    assert all(m.to_house == "h2" for m in result.moves)
    assert check_plan(inp, list(result.bookings)) == []


def test_pinned_and_past_nights_never_move():
    # A's stay is pinned, so B must move; nights before today are not touched at all.
    pins = (
        Pin.model_validate(
            {"child_id": "A0001", "house_id": "h1", "from": day(0), "to": day(6), "kind": "pin"}
        ),
    )
    inp = _two_houses(reserve=0, pins=pins)
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h1", 0, 6)
    result = place_acute(inp, plan, inp.child("C0003"), day(3), day(4), today=day(3))
    assert isinstance(result, AcuteProposal)
    assert {m.child_id for m in result.moves} == {"B0002"}
    before = {b for b in plan if b.night < day(3)}
    assert before <= set(result.bookings)
    assert check_plan(inp, list(result.bookings)) == []


def test_acute_stay_is_time_limited_and_not_in_the_past():
    inp = _two_houses()
    too_long = place_acute(inp, [], inp.child("C0003"), day(0), day(6), today=day(0), max_nights=3)
    assert isinstance(too_long, AcuteRefusal) and "at most 3" in too_long.reason
    past = place_acute(inp, [], inp.child("C0003"), day(1), day(2), today=day(3))
    assert isinstance(past, AcuteRefusal) and "before today" in past.reason


def test_acute_nights_are_counted_apart_from_the_grant():
    inp = _two_houses(reserve=1)
    result = place_acute(inp, [], inp.child("C0003"), day(0), day(2), today=day(0))
    assert isinstance(result, AcuteProposal)
    # C0003 is granted 0 nights: its acute nights break no grant.
    assert check_plan(inp, list(result.bookings)) == []


def test_cancel_frees_only_future_nights_of_that_child():
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h1", 0, 6)
    kept, freed = cancel(plan, "A0001", day(1), day(4), today=day(2))
    assert [b.night for b in freed] == [day(2), day(3), day(4)]
    assert len(kept) == 14 - 3


def test_free_nights_keep_the_reserve_and_match_a_hand_count():
    # h1: 2 places, 1 reserved, A every night: 0 free. h2: 1 place, B on nights 0–2: 4 free.
    inp = _two_houses(reserve=1)
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h2", 0, 2)
    free = free_nights(inp, plan, day(0), day(6))
    assert {(f.house_id, f.night) for f in free} == {("h2", day(n)) for n in range(3, 7)}
    assert free_by_category(free) == {"3": 4}


def _application(
    child_id: str, applied: dt.date, nights: int, category: str = "3"
) -> WaitingApplication:
    return WaitingApplication(
        child_id=child_id, applied=applied, category=category, level=2, nights_wanted=nights
    )


def test_offers_go_by_shortfall_then_wait_and_keep_the_reserve():
    inp = _two_houses(reserve=1)
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h2", 0, 2)
    waiting = [
        _application("N0010", day(-40), 2),
        _application("N0011", day(-5), 3),
        _application("B0002", day(-60), 2),  # short of its grant by 4, asks for 2
    ]
    order = [w.child_id for w in priority_order(inp, plan, waiting)]
    assert order == ["N0011", "B0002", "N0010"]
    result = offer(inp, plan, waiting, day(0), day(6), today=day(0))
    given = {o.child_id: len(o.nights) for o in result.offers}
    # Four free nights in h2: N0011 takes 3, B0002 the last one, N0010 nothing.
    assert given == {"N0011": 3, "B0002": 1}
    assert [w.child_id for w in result.overdue] == ["N0010", "B0002"]
    assert [w.child_id for w in overdue(waiting, day(0))] == ["N0010", "B0002"]
    applicants = [as_child(inp, w) for w in waiting]
    assert check_plan(inp.with_children(applicants), list(result.bookings)) == []


def test_acute_moves_the_fewest_families_when_the_nights_tie():
    # h1 (categories 2 and 3, 2 places, no reserve) is full on nights 2–4: A0001 all three,
    # B0002 nights 2–3, D0004 night 4. C0003 (category 2) fits only h1. Freeing a place each
    # night takes 3 moved nights whoever moves; A0001 alone is 1 family, B0002 + D0004 are 2.
    # Optimum: A0001's three nights to h2 (2 places, empty), 3 nights, 1 family.
    inp = round_input(
        [house("h1", places=2), house("h2", places=2, categories="3")],
        [
            child("A0001", 7, category="3"),
            child("B0002", 7, category="3"),
            child("C0003", 0),
            child("D0004", 7, category="3"),
        ],
    )
    plan = nights_of("A0001", "h1", 2, 4) + nights_of("B0002", "h1", 2, 3)
    plan += nights_of("D0004", "h1", 4, 4)
    result = place_acute(inp, plan, inp.child("C0003"), day(2), day(4), today=day(0))
    assert isinstance(result, AcuteProposal)
    assert not result.used_reserve and result.house_id == "h1"
    assert [(m.child_id, m.night, m.to_house) for m in result.moves] == [
        ("A0001", day(n), "h2") for n in (2, 3, 4)
    ]
    assert result.families_touched == 1
    assert check_plan(inp, list(result.bookings)) == []


def test_acute_moves_a_night_rather_than_take_one_out():
    # h1 (2 places) full on nights 2–3 with A0001 (category 2: h1 only) and B0002 (category 3:
    # h2 has its one place free). Optimum: B0002's 2 nights to h2; nobody loses a night.
    inp = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [child("A0001", 7), child("B0002", 7, category="3"), child("C0003", 0)],
    )
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h1", 0, 6)
    result = place_acute(inp, plan, inp.child("C0003"), day(2), day(3), today=day(0))
    assert isinstance(result, AcuteProposal)
    assert [(m.child_id, m.to_house) for m in result.moves] == [("B0002", "h2")] * 2
    assert check_plan(inp, list(result.bookings)) == []

    # With h2 full too, a night must be taken out (to re-plan with the family): exactly one
    # a night, 2 in all, and never A0001's and B0002's both on one night.
    busy = [*plan, *nights_of("E0005", "h2", 0, 6)]
    inp2 = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [
            child("A0001", 7),
            child("B0002", 7, category="3"),
            child("C0003", 0),
            child("E0005", 7, category="3"),
        ],
    )
    result = place_acute(inp2, busy, inp2.child("C0003"), day(2), day(3), today=day(0))
    assert isinstance(result, AcuteProposal)
    assert len(result.moves) == 2 and all(m.to_house is None for m in result.moves)
    assert sorted(m.night for m in result.moves) == [day(2), day(3)]
    assert check_plan(inp2, list(result.bookings)) == []


def test_no_room_without_moving_past_or_pinned_nights_is_refused():
    # h1 is full with A0001 and B0002 (category 2, which h2 does not take). Unpinned, one of
    # them would lose two nights; both pinned, nothing may change: refused, with a reason.
    pins = tuple(
        Pin.model_validate(
            {"child_id": c, "house_id": "h1", "from": day(0), "to": day(6), "kind": "pin"}
        )
        for c in ("A0001", "B0002")
    )
    base = round_input(
        [house("h1", places=2), house("h2", places=1, categories="3")],
        [child("A0001", 7), child("B0002", 7), child("C0003", 0)],
    )
    inp = RoundInput(config=base.config, houses=base.houses, children=base.children, pins=pins)
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h1", 0, 6)
    result = place_acute(inp, plan, inp.child("C0003"), day(2), day(3), today=day(0))
    assert isinstance(result, AcuteRefusal)
    assert "pinned" in result.reason


def test_an_offer_prefers_a_house_that_fully_accepts_the_category():
    # h1 takes category 4 only conditionally, h2 fully; both have the same 7 free nights.
    # W0001 (category 4) asks for 3: it gets h2's first three nights.
    inp = round_input(
        [
            house("h1", places=1, categories="2;3", conditional_categories="4"),
            house("h2", places=1, categories="4"),
        ],
        [child("A0001", 7)],
    )
    waiting = [_application("W0001", day(-3), 3, category="4")]
    result = offer(inp, [], waiting, day(0), day(6), today=day(0))
    assert [(o.child_id, o.house_id, o.nights) for o in result.offers] == [
        ("W0001", "h2", (day(0), day(1), day(2)))
    ]
    assert result.overdue == ()
    applicants = [as_child(inp, w) for w in waiting]
    assert check_plan(inp.with_children(applicants), list(result.bookings)) == []


def test_an_offer_never_gives_a_night_forbidden_in_pins_csv():
    # B0002 (short of its grant by 7) must not be in h2 on nights 0–3 (pins.csv, forbid): of
    # h2's seven free nights it may get nights 4–6 only.
    forbid = Pin.model_validate(
        {"child_id": "B0002", "house_id": "h2", "from": day(0), "to": day(3), "kind": "forbid"}
    )
    inp = _two_houses(reserve=1, pins=(forbid,))
    plan = nights_of("A0001", "h1", 0, 6)
    result = offer(inp, plan, [_application("B0002", day(-1), 7)], day(0), day(6), today=day(0))
    assert [(o.house_id, o.nights) for o in result.offers] == [("h2", (day(4), day(5), day(6)))]
    assert check_plan(inp, list(result.bookings)) == []


def test_an_acute_stay_avoids_a_house_forbidden_to_the_child():
    # h1 keeps one place for acute stays, but C0003 must never be in h1 (pins.csv, forbid): the
    # stay goes to h2's free place instead.
    forbid = Pin.model_validate(
        {"child_id": "C0003", "house_id": "h1", "from": day(0), "to": day(6), "kind": "forbid"}
    )
    base = round_input(
        [house("h1", places=2), house("h2", places=1)],
        [child("A0001", 7), child("B0002", 7), child("C0003", 0)],
        acute_reserve={"h1": 1},
    )
    inp = RoundInput(config=base.config, houses=base.houses, children=base.children, pins=(forbid,))
    plan = nights_of("A0001", "h1", 0, 6)
    result = place_acute(inp, plan, inp.child("C0003"), day(2), day(3), today=day(0))
    assert isinstance(result, AcuteProposal) and result.house_id == "h2"
    assert check_plan(inp, list(result.bookings)) == []
    # With h2 full too, the reserved place in h1 is still not used: B0002's two nights in h2
    # are taken out instead (h1 has no planned place for them).
    full = [*plan, *nights_of("B0002", "h2", 0, 6)]
    moved = place_acute(inp, full, inp.child("C0003"), day(2), day(3), today=day(0))
    assert isinstance(moved, AcuteProposal) and moved.house_id == "h2"
    assert [(m.child_id, m.to_house) for m in moved.moves] == [("B0002", None)] * 2
    assert check_plan(inp, list(moved.bookings)) == []


def test_a_known_childs_own_nights_become_part_of_its_acute_stay():
    # B0002 sleeps in h2 on nights 2–3 (planned) and needs respite on nights 1–4 at once. h2
    # (1 place) is free on nights 1 and 4: the acute stay is nights 1–4 in h2, B0002's two
    # planned nights become acute (counted apart from the grant), nobody else moves.
    inp = _two_houses(reserve=1)
    plan = nights_of("A0001", "h1", 0, 6) + nights_of("B0002", "h2", 2, 3)
    result = place_acute(inp, plan, inp.child("B0002"), day(1), day(4), today=day(0))
    assert isinstance(result, AcuteProposal)
    assert (result.house_id, result.moves) == ("h2", ())
    assert [b.night for b in result.absorbed] == [day(2), day(3)]
    mine = [(b.night, b.kind) for b in result.bookings if b.child_id == "B0002"]
    assert mine == [(day(n), "acute") for n in (1, 2, 3, 4)]
    assert check_plan(inp, list(result.bookings)) == []
    # An acute stay on top of an acute stay is refused.
    again = place_acute(
        inp, list(result.bookings), inp.child("B0002"), day(3), day(5), today=day(0)
    )
    assert isinstance(again, AcuteRefusal) and "already has an acute stay" in again.reason
