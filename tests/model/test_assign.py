"""The house assignment: every child gets one house, and load is spread so houses can give it."""

from __future__ import annotations

from factories import child, house, round_input

from allocator.assign import assign_houses
from allocator.instance import build_instance


def test_two_children_with_one_home_house_are_spread_when_it_cannot_hold_both():
    # h1 and h2 have one place each for a week (6 usable nights with the 350-night rule). A and
    # B both call h1 home and want 6 nights: h1 can give 6, so one of them must go to h2 (a
    # home-house miss costs 20 a night, an overloaded night at least 500).
    inp = round_input(
        [house("h1", places=1), house("h2", places=1)],
        [child("A0001", 6, home_house="h1"), child("B0002", 6, home_house="h1")],
    )
    inst = build_instance(inp)
    assignment = assign_houses(inst, time_limit=5.0, workers=1)
    houses = {inst.children[c].child_id: inst.houses[h].house_id for c, h in assignment.items()}
    assert set(houses) == {"A0001", "B0002"}
    assert sorted(houses.values()) == ["h1", "h2"]


def test_a_child_stays_home_when_there_is_room():
    inp = round_input(
        [house("h1", places=2), house("h2", places=2)],
        [child("A0001", 5, home_house="h2"), child("B0002", 5, home_house="h2")],
    )
    inst = build_instance(inp)
    assignment = assign_houses(inst, time_limit=5.0, workers=1)
    assert {inst.houses[h].house_id for h in assignment.values()} == {"h2"}
