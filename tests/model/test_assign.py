"""The house assignment: every child gets one house, and load is spread so houses can give it."""

from __future__ import annotations

import itertools

from factories import child, house, round_input

from allocator import assign
from allocator.assign import (
    _AssignmentModel,
    _describe,
    assign_houses,
    penalty,
    relaxed_assignment,
)
from allocator.instance import Instance, build_instance


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


def test_weekend_families_are_spread_so_every_house_has_the_same_weekend_pressure():
    # Four weekend families (8 Friday/Saturday nights each) and four "any" families in two
    # equal houses with room for all. With three weekend families in one house, the "any"
    # families there would get almost no Fridays and Saturdays and those in the other house
    # many: the assignment model must prefer two and two.
    inp = round_input(
        [house("h1", places=4), house("h2", places=4)],
        [child(f"W000{i}", 8, pattern="weekend") for i in range(1, 5)]
        + [child(f"A000{i}", 20) for i in range(1, 5)],
        nights=28,
    )
    inst = build_instance(inp)
    by_id = {c.child_id: c.idx for c in inst.children}
    h1, h2 = (h.idx for h in inst.houses)

    def split(weekend_in_h1: int) -> dict[int, int]:
        homes = {by_id[f"W000{i}"]: h1 if i <= weekend_in_h1 else h2 for i in range(1, 5)}
        homes |= {by_id[f"A000{i}"]: h2 if i <= weekend_in_h1 else h1 for i in range(1, 5)}
        return homes

    model = _describe(inst)
    assert penalty(model, split(2)) < penalty(model, split(3))
    assignment = assign_houses(inst, time_limit=5.0, workers=1)
    weekend_in = [assignment[by_id[f"W000{i}"]] for i in range(1, 5)]
    assert sorted(weekend_in) == [h1, h1, h2, h2]


def _small_round_with_a_crowded_category() -> tuple[Instance, _AssignmentModel]:
    # Category 3 fits h1 only; category 2 fits both. The 3s fill h1, so the 2s must make room
    # there, and the weekend families must spread between the houses.
    inp = round_input(
        [house("h1", places=2), house("h2", places=2, categories="2")],
        [
            child("A0001", 10, category="3"),
            child("B0002", 8, category="3", pattern="weekend"),
            child("C0003", 10, home_house="h1"),
            child("D0004", 6, pattern="weekend", home_house="h1"),
            child("E0005", 8),
        ],
        nights=28,
    )
    inst = build_instance(inp)
    return inst, _describe(inst)


def _best_penalty(inst: Instance, m: _AssignmentModel) -> int:
    children = sorted({c for c, _h in m.choices})
    options = [[h for (c2, h) in m.choices if c2 == c] for c in children]
    return min(
        penalty(m, dict(zip(children, pick, strict=True))) for pick in itertools.product(*options)
    )


def test_the_relaxation_rounded_and_repaired_reaches_the_best_assignment():
    inst, m = _small_round_with_a_crowded_category()
    assignment = assign_houses(inst, time_limit=5.0, workers=1)
    assert penalty(m, assignment) == _best_penalty(inst, m)
    relaxed = relaxed_assignment(m, 5.0)
    assert relaxed is not None
    rounded, split = relaxed
    assert set(rounded) == {c for c, _h in m.choices}
    assert all((c, h) in m.choices for c, h in rounded.items())
    assert all((c, h) in m.choices for c, houses in split.items() for h in houses)


def test_without_the_relaxation_cp_sat_still_assigns_every_child(monkeypatch):
    # GLOP may find nothing in its seconds on a huge region: CP-SAT from the greedy assignment
    # takes over.
    inst, m = _small_round_with_a_crowded_category()
    monkeypatch.setattr(assign, "relaxed_assignment", lambda m, seconds: None)
    assignment = assign.assign_houses(inst, time_limit=5.0, workers=1)
    assert penalty(m, assignment) == _best_penalty(inst, m)
