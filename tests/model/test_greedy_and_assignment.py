"""The starting points of the decomposed method: the greedy plan's stays and the house
assignment's moves and swaps."""

from __future__ import annotations

import datetime as dt
import itertools

from factories import MONDAY, child, house, round_input, wish

from allocator.assign import _describe, _LocalSearch, penalty
from allocator.check import check_plan
from allocator.hint import greedy_plan
from allocator.instance import build_instance
from allocator.solve import bookings_of
from models.outputs import stays_from_bookings


def test_greedy_lengthens_a_stay_rather_than_booking_a_single_night():
    # Five nights for a family with no pattern: a stay of four (the usual stay) and the last
    # night on its own would be a single-night stay; one stay of five is within the longest
    # stay (seven) and is what a coordinator would book.
    inp = round_input([house("h1", places=1)], [child("A0001", 5)])
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    assert [s.nights for s in stays_from_bookings(bookings)] == [5]


def test_greedy_never_lengthens_a_weekend_stay_beyond_three_nights():
    # A weekend family granted 4 nights over two weekends: two stays, none longer than three.
    inp = round_input([house("h1", places=1)], [child("A0001", 4, pattern="weekend")], nights=14)
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    assert len(bookings) == 4
    assert all(s.nights <= 3 for s in stays_from_bookings(bookings))


def test_greedy_gives_a_weekend_family_friday_and_saturday_stays_when_they_are_free():
    # Eight nights over eight weeks with the house empty: four Friday–Saturday stays. A start
    # nearest the even spacing that falls on a Monday used to become a Saturday–Sunday stay.
    inp = round_input([house("h1", places=1)], [child("A0001", 8, pattern="weekend")], nights=56)
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    assert len(bookings) == 8
    assert {b.night.weekday() for b in bookings} == {4, 5}
    assert [s.nights for s in stays_from_bookings(bookings)] == [2, 2, 2, 2]


def test_greedy_leaves_fridays_and_saturdays_to_weekend_families():
    # One place for two weeks from a Thursday: a weekend family (4 nights) and a family with
    # no pattern (8 nights, booked first). The even spacing puts the first stay of the family
    # with no pattern on the first Thursday, and a Thursday–Sunday stay there would take the
    # weekend family's Friday and Saturday.
    inp = round_input(
        [house("h1", places=1)],
        [child("A0001", 8), child("W0002", 4, pattern="weekend")],
        nights=14,
        start=MONDAY + dt.timedelta(days=3),
    )
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    nights = {c: [b.night for b in bookings if b.child_id == c] for c in ("A0001", "W0002")}
    assert len(nights["W0002"]) == 4
    assert {n.weekday() for n in nights["W0002"]} == {4, 5}
    assert all(n.weekday() not in (4, 5) for n in nights["A0001"])


def test_moves_and_swaps_reach_the_best_assignment_of_a_small_round():
    # h1 takes categories 2 and 3, h2 only 2. B and D (category 3) must share h1, so A and C
    # (category 2, all four in h1 at the start) must make room: the start overloads h1.
    inp = round_input(
        [house("h1", places=1), house("h2", places=1, categories="2")],
        [
            child("A0001", 4),
            child("B0002", 4, category="3"),
            child("C0003", 4),
            child("D0004", 4, category="3"),
        ],
        nights=14,
    )
    inst = build_instance(inp)
    m = _describe(inst)
    h1, h2 = (h.idx for h in inst.houses)
    start = {c.idx: h1 for c in inst.children}
    found = _LocalSearch(m, start).run(deadline=float("inf"))
    options = [[h for (c2, h) in m.choices if c2 == c.idx] for c in inst.children]
    best = min(
        penalty(m, dict(zip([c.idx for c in inst.children], pick, strict=True)))
        for pick in itertools.product(*options)
    )
    assert penalty(m, found) == best < penalty(m, start)
    assert any(h == h2 for h in found.values())


def test_greedy_books_the_heavier_of_two_wishes_for_one_place_first():
    # One place, two families wishing for the same Tuesday-Wednesday: the heavier wish is
    # booked as asked, and the other family's nights go around it.
    tuesday, wednesday = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
    inp = round_input(
        [house("h1", places=1)],
        [child("A0001", 2), child("A0002", 2)],
        wishes=[
            wish("A0001", tuesday, wednesday, weight=2),
            wish("A0002", tuesday, wednesday, weight=5),
        ],
    )
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    nights = {
        b.child_id: sorted(x.night for x in bookings if x.child_id == b.child_id) for b in bookings
    }
    assert nights["A0002"] == [tuesday, wednesday]
    assert len(nights["A0001"]) == 2 and tuesday not in nights["A0001"]


def test_greedy_books_no_wish_beyond_the_grant_or_the_longest_stay():
    # A weekend family (longest stay 3 nights) wishes for four nights, and a family granted 2
    # wishes for three: neither wish is booked as such, and each family gets its grant.
    friday = MONDAY + dt.timedelta(days=4)
    inp = round_input(
        [house("h1", places=2)],
        [child("A0001", 4, pattern="weekend"), child("A0002", 2)],
        nights=14,
        wishes=[
            wish("A0001", friday - dt.timedelta(days=1), friday + dt.timedelta(days=2), "want", 9),
            wish("A0002", MONDAY, MONDAY + dt.timedelta(days=2), "want", 9),
        ],
    )
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    assert all(s.nights <= 3 for s in stays_from_bookings(bookings) if s.child_id == "A0001")
    got = {c: sum(1 for b in bookings if b.child_id == c) for c in ("A0001", "A0002")}
    assert got == {"A0001": 4, "A0002": 2}


def test_greedy_leaves_a_wish_off_the_familys_pattern_to_the_model():
    # A weekend family asks for Thursday-Friday: booked first, its Thursday would be a night
    # off its pattern the model may not want; the greedy plan gives it Friday-Saturday.
    thursday = MONDAY + dt.timedelta(days=3)
    inp = round_input(
        [house("h1", places=1)],
        [child("A0001", 2, pattern="weekend")],
        wishes=[wish("A0001", thursday, thursday + dt.timedelta(days=1), weight=9)],
    )
    inst = build_instance(inp)
    bookings = bookings_of(inst, greedy_plan(inst))
    assert check_plan(inp, bookings) == []
    assert sorted(b.night.weekday() for b in bookings) == [4, 5]
