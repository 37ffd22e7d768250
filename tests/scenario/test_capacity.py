"""The capacity search finds the known answer on tiny rounds (7 nights, 365 nights a place so a
place gives every night): a group short by exactly k places needs k, every answer comes with a
plan the checker accepts, and hopeless cases say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from a_scenario_helpers import assert_checked, run_cli
from factories import child, house, round_input

from allocator.io.write_input import write_round
from allocator.scenario.capacity import (
    CapacityResult,
    find_capacity,
    house_groups,
    with_added,
)
from allocator.solve import SolveParams
from models.round_input import RoundInput

PARAMS = SolveParams(time_limit=2.0, seed=1, workers=1)


def full_week(child_id: str, category: str = "2") -> object:
    return child(child_id, 7, category=category, level=2)


def found_checked(result: CapacityResult) -> None:
    assert result.found, result.message
    assert result.round is not None
    assert_checked(result.round, result.bookings)


def test_one_place_short_needs_exactly_one() -> None:
    """Two children want all 7 nights of a 1-place house: 95% of 7 is 7 nights each, so one
    place carries 7 of the 14 nights; one more place is the answer, and 0 is not."""
    inp = round_input([house("h", places=1)], [full_week("B0001"), full_week("B0002")])
    result = find_capacity(inp, 0.95, params=PARAMS)
    found_checked(result)
    (group,) = house_groups(inp)
    assert result.added == {group.key: 1} and result.flow_added == {group.key: 1}
    assert result.round is not None and result.round.house("h").places == 2
    assert len(result.bookings) == 14


def test_two_groups_each_get_their_own_shortfall() -> None:
    """Category 4 is one place short (2 children, 1 place), categories 2/3 two (3 children,
    1 place): the answer is +1 and +2."""
    inp = round_input(
        [house("h4", places=1, categories="4"), house("h23", places=1, categories="2;3")],
        [
            full_week("B0001", "4"),
            full_week("B0002", "4"),
            full_week("B0003", "2"),
            full_week("B0004", "3"),
            full_week("B0005", "2"),
        ],
    )
    result = find_capacity(inp, 0.95, params=PARAMS)
    found_checked(result)
    assert result.added == {"4": 1, "2;3": 2}
    assert result.total == 3
    # Only the category-4 group may grow: the 2/3 children stay short whatever is added.
    only4 = find_capacity(inp, 0.95, groups=["h4"], params=PARAMS, max_add=4)  # by its house
    assert list(only4.added) == ["4"]
    assert not only4.found and "not reachable" in only4.message and only4.steps == []


def test_a_lower_target_needs_nothing() -> None:
    """Two children granted 6 nights in one place for 7 nights: half of each grant (3 + 3)
    fits, so no place is added; 95% (6 + 6 = 12 > 7) would need one."""
    inp = round_input(
        [house("h", places=1)], [child("B0001", 6, level=2), child("B0002", 6, level=2)]
    )
    half = find_capacity(inp, 0.5, params=PARAMS)
    found_checked(half)
    assert half.total == 0 and len(half.steps) == 1
    assert find_capacity(inp, 0.95, params=PARAMS).total == 1


def test_the_model_confirms_what_the_flow_cannot_see() -> None:
    """Two incompatible children (rule R6) in a 2-place house: the max-flow bound, blind to
    R6, needs no place; the model cannot put them together, so a new house is needed."""
    inp = round_input(
        [house("h", places=2)],
        [full_week("B0001"), full_week("B0002")],
        incompatible=[("B0001", "B0002")],
    )
    result = find_capacity(inp, 0.95, mode="new", params=PARAMS, max_add=2, max_solves=3)
    found_checked(result)
    (group,) = house_groups(inp)
    assert result.flow_added == {group.key: 0} and result.added == {group.key: 1}
    assert result.round is not None and result.round.house("extra-h").places == 1
    # Solves: none added (both short: they take turns), one added (meets), none again
    # (giving back fails).
    assert [(s.added[group.key], s.short) for s in result.steps] == [(0, 2), (1, 0), (0, 2)]
    # Adding places to the same house never separates them.
    same = find_capacity(inp, 0.95, mode="add", params=PARAMS, max_add=2, max_solves=3)
    assert not same.found and len(same.steps) == 3


def test_children_no_house_takes_are_reported() -> None:
    inp = round_input([house("h", places=1)], [full_week("B0001", "5")])
    result = find_capacity(inp, 0.95, params=PARAMS, max_add=3)
    assert not result.found and "not reachable" in result.message


def test_groups_and_with_added() -> None:
    inp = round_input(
        [
            house("a", places=2, categories="2;3", conditional_categories="4"),
            house("b", places=4, categories="2;3", conditional_categories="4"),
            house("c", places=3, categories="4"),
            house("d", places=1, categories="5", kind="barnebolig"),
        ],
        [],
    )
    groups = house_groups(inp)
    assert [(g.key, g.houses, g.representative, g.places) for g in groups] == [
        ("2;3 (4)", ("a", "b"), "b", 6),
        ("4", ("c",), "c", 3),
        ("barnebolig 5", ("d",), "d", 1),
    ]
    grown: RoundInput = with_added(inp, groups, {"2;3 (4)": 2, "4": 0})
    assert grown.house("b").places == 6 and grown.house("c").places == 3
    with pytest.raises(ValueError, match="unknown group"):
        find_capacity(inp, 0.9, groups=["7"])


def test_cli_capacity(tmp_path: Path) -> None:
    inp = round_input([house("h", places=1)], [full_week("B0001"), full_week("B0002")])
    write_round(inp, tmp_path / "base")
    answer = tmp_path / "capacity.json"
    result = run_cli(
        "scenario", "capacity", tmp_path / "base", "--target", 0.95, "--time-limit", 2,
        "--workers", 1, "--out", answer,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "found" in result.output and "+1" in result.output
    assert "1 places in all" in result.output
    data = json.loads(answer.read_text())
    assert data["found"] and data["total"] == 1
    assert [(g["grows"], g["max_flow_needs"], g["add"]) for g in data["groups"]] == [("h", 1, 1)]
    assert data["solves"][0]["children_below_target"] == 0


def test_cli_capacity_not_reachable_exits_1(tmp_path: Path) -> None:
    inp = round_input([house("h", places=1)], [full_week("B0001", "5")])
    write_round(inp, tmp_path / "base")
    result = run_cli("scenario", "capacity", tmp_path / "base", "--max-add", 2)
    assert result.exit_code == 1, result.output
    assert "not reachable" in result.output
