"""Each hard rule on a tiny round with a known optimum (1–3 children, 1–2 houses, 7 nights).

The round starts on Monday 4 January 2027, so night index 4 is Friday and 5 is Saturday.
"""

from __future__ import annotations

import datetime as dt

from conftest import nights_per_child, solve_checked
from factories import MONDAY, child, closure, house, round_input, unavailable

from allocator.result import SolveStatus


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


def test_house_capacity_shares_one_place():
    # One place, 7 nights, two children granted 4 each: at most 7 nights in all.
    inp = round_input([house(places=1)], [child("B0001", 4), child("B0002", 4)])
    result = solve_checked(inp)
    assert result.status is SolveStatus.OPTIMAL
    assert len(result.bookings) == 7


def test_acute_reserve_holds_a_place_free_every_night():
    # Two places with one held for acute respite: one child a night, so 7 of 14 granted nights.
    inp = round_input(
        [house(places=2)], [child("B0001", 7), child("B0002", 7)], acute_reserve={"h1": 1}
    )
    result = solve_checked(inp)
    assert len(result.bookings) == 7
    per_night = {b.night for b in result.bookings}
    assert len(per_night) == 7


def test_house_budget_350_nights_per_place_year():
    # One place at 350 nights a year over 7 nights: floor(350 * 7 / 365) = 6 nights.
    inp = round_input([house(places=1, nights_per_place_year=350)], [child("B0001", 7)])
    result = solve_checked(inp)
    assert len(result.bookings) == 6


def test_closure_removes_places():
    # The only place is closed Tuesday and Wednesday nights: 5 nights remain.
    inp = round_input(
        [house(places=1)], [child("B0001", 7)], closures=[closure("h1", day(1), day(2))]
    )
    result = solve_checked(inp)
    assert len(result.bookings) == 5
    assert not {day(1), day(2)} & {b.night for b in result.bookings}


def test_category_not_accepted_gets_nothing():
    # Category 4 in a house for 2 and 3 only: no night at all.
    inp = round_input([house(categories="2;3")], [child("B0001", 3, category="4")])
    result = solve_checked(inp)
    assert result.status.has_plan
    assert result.bookings == []


def test_conditional_category_is_allowed_but_full_fit_preferred():
    # h1 takes 4 only conditionally, h2 fully; both have room, so the child goes to h2.
    inp = round_input(
        [
            house("h1", categories="2;3", conditional_categories="4"),
            house("h2", categories="4"),
        ],
        [child("B0001", 3, category="4")],
    )
    result = solve_checked(inp)
    assert {b.house_id for b in result.bookings} == {"h2"}
    assert len(result.bookings) == 3


def test_conditional_category_used_when_it_is_the_only_room():
    inp = round_input(
        [house("h1", categories="2;3", conditional_categories="4")],
        [child("B0001", 3, category="4")],
    )
    result = solve_checked(inp)
    assert len(result.bookings) == 3
    assert result.term_values["conditional_placements"] > 0


def test_category_needing_night_watch_only_where_there_is_one():
    # Category 3 needs night watch; h1 has none, h2 has: every night in h2.
    inp = round_input(
        [house("h1", night_watch=False), house("h2", night_watch=True)],
        [child("B0001", 3, category="3", home_house="h1")],
    )
    result = solve_checked(inp)
    assert {b.house_id for b in result.bookings} == {"h2"}


def test_group_p_only_where_p_is_accepted():
    inp = round_input(
        [house("h1", categories="2;3;4;5"), house("h2", categories="P")],
        [child("B0001", 2, category="P")],
    )
    result = solve_checked(inp)
    assert {b.house_id for b in result.bookings} == {"h2"}


def test_barnebolig_resident_lives_there_every_available_night():
    # Level 6 with one weekend at home: in the barnebolig the 5 other nights, never elsewhere.
    inp = round_input(
        [house("bb", kind="barnebolig", categories="5"), house("h1", categories="5")],
        [child("B0001", 7, category="5", level=6), child("B0002", 7, category="5", level=3)],
        unavailable=[unavailable("B0001", day(4), day(5))],
    )
    result = solve_checked(inp)
    per_house = {(b.child_id, b.house_id) for b in result.bookings}
    assert ("B0001", "bb") in per_house and ("B0002", "bb") not in per_house
    assert nights_per_child(result)["B0001"] == 5


def test_barnebolig_without_a_bed_names_the_conflict():
    # Two residents, one barnebolig place: no plan, and both children are named.
    inp = round_input(
        [house("bb", kind="barnebolig", categories="5", places=1)],
        [child("B0001", 7, category="5", level=6), child("B0002", 7, category="5", level=6)],
    )
    result = solve_checked(inp)
    assert result.status is SolveStatus.INFEASIBLE
    text = " ".join(result.conflicts)
    assert "B0001" in text and "B0002" in text and "bb" in text


def test_never_more_nights_than_granted():
    inp = round_input([house(places=2)], [child("B0001", 3)])
    result = solve_checked(inp)
    assert nights_per_child(result)["B0001"] == 3


def test_unavailable_and_vedtak_dates_are_respected():
    # Summer camp on nights 0–2, vedtak ends on night 5: only nights 3, 4 and 5 remain.
    inp = round_input(
        [house(places=1)],
        [child("B0001", 7, vedtak_to=day(5))],
        unavailable=[unavailable("B0001", day(0), day(2), reason="sommerleir")],
    )
    result = solve_checked(inp)
    assert sorted(b.night for b in result.bookings) == [day(3), day(4), day(5)]


def test_incompatible_children_never_share_a_night():
    # Two places, but the two children may not meet: 7 nights in all, not 14.
    inp = round_input(
        [house(places=2)],
        [child("B0001", 7), child("B0002", 7)],
        incompatible=[("B0001", "B0002")],
    )
    result = solve_checked(inp)
    assert len(result.bookings) == 7
    nights_a = {b.night for b in result.bookings if b.child_id == "B0001"}
    nights_b = {b.night for b in result.bookings if b.child_id == "B0002"}
    assert not nights_a & nights_b


def test_incompatible_residents_in_one_barnebolig_are_named():
    # Both residents can only live in bb (2 places) but may never meet: no plan, both named.
    inp = round_input(
        [house("bb", kind="barnebolig", categories="5", places=2)],
        [child("B0001", 7, category="5", level=6), child("B0002", 7, category="5", level=6)],
        incompatible=[("B0001", "B0002")],
    )
    result = solve_checked(inp)
    assert result.status is SolveStatus.INFEASIBLE
    text = " ".join(result.conflicts)
    assert "B0001" in text and "B0002" in text and "bb" in text
