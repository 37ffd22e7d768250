"""Barnebolig residents without a bed are named before solving (`allocator.diagnose`).

Level-6 residents live in a barnebolig every available night (R4_BARNEBOLIG_EVERY_NIGHT). On a
night when the residents who may only use a set of barneboliger outnumber those houses' places,
the round cannot be planned: `diagnose`, `plan` and `validate` name the houses, the residents
and the nights. Tiny rounds from Monday 4 January 2027 (night 0) for 7 nights.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from conftest import solve_checked
from factories import MONDAY, child, closure, house, round_input, unavailable
from typer.testing import CliRunner

from allocator.check import check_plan
from allocator.cli import EXIT_BAD_INPUT, EXIT_NO_PLAN, app
from allocator.diagnose import diagnose
from allocator.instance import build_instance
from allocator.io.write_input import write_round
from allocator.result import SolveStatus
from allocator.solve import SolveParams, solve_round
from models.inputs import Child, House
from models.round_input import RoundInput


def day(i: int) -> dt.date:
    return MONDAY + dt.timedelta(days=i)


def barnebolig(house_id: str, places: int = 1, categories: str = "5") -> House:
    return house(house_id, places=places, kind="barnebolig", categories=categories)


def resident(child_id: str, category: str = "5", **kw: Any) -> Child:
    return child(child_id, 7, category=category, level=6, interdisciplinary_assessment=True, **kw)


def conflicts_of(inp: RoundInput) -> list[str]:
    return diagnose(build_instance(inp))


def test_two_residents_one_place_names_both_and_the_house():
    inp = round_input([barnebolig("bb")], [resident("B0001"), resident("B0002")])

    assert conflicts_of(inp) == [
        "Barnebolig bb: 2 residents but 1 usable place on 2027-01-04; residents outnumber "
        "places on 7 night(s): 2027-01-04–2027-01-10 (residents with no other barnebolig: "
        "B0001, B0002). Open places, lift a closure or acute reserve, or move a resident to "
        "another barnebolig."
    ]
    result = solve_checked(inp)
    assert result.status is SolveStatus.INFEASIBLE
    assert "B0001" in result.conflicts[0] and "bb" in result.conflicts[0]


def test_two_residents_in_two_barneboliger_with_one_place_each_are_planned():
    inp = round_input(
        [barnebolig("bb1"), barnebolig("bb2")], [resident("B0001"), resident("B0002")]
    )

    assert conflicts_of(inp) == []
    result = solve_checked(inp)  # fails on any checker violation
    assert result.status.has_plan
    assert check_plan(inp, result.bookings) == []
    assert len(result.bookings) == 14


def test_residents_with_different_home_houses_are_counted_together():
    # The Bergen case: both barneboliger take every resident, each resident lists its home
    # house first. Three residents, two places: counted by each resident's own list of
    # houses, no list had more residents than the two places.
    inp = round_input(
        [barnebolig("bb1"), barnebolig("bb2")],
        [
            resident("B0001", home_house="bb1"),
            resident("B0002", home_house="bb2"),
            resident("B0003", home_house="bb1"),
        ],
    )

    (line,) = conflicts_of(inp)
    assert line.startswith(
        "Barnebolig houses bb1, bb2 together: 3 residents but 2 usable places on 2027-01-04;"
    )
    assert "B0001, B0002, B0003" in line


def test_enough_places_in_total_but_not_every_night():
    # 2 places, 1 closed Thursday and Friday: 12 place-nights for 11 resident-nights (B0002 is
    # home Monday to Wednesday), yet on Thursday and Friday two residents share one place.
    inp = round_input(
        [barnebolig("bb", places=2)],
        [resident("B0001"), resident("B0002")],
        closures=[closure("bb", day(3), day(4))],
        unavailable=[unavailable("B0002", day(0), day(2))],
    )

    (line,) = conflicts_of(inp)
    assert "Barnebolig bb: 2 residents but 1 usable place on 2027-01-07;" in line
    assert "on 2 night(s): 2027-01-07–2027-01-08 " in line


def test_only_the_residents_who_cannot_go_elsewhere_are_named():
    # bb2 takes categories 4 and 5, bb1 only 5: the two category-4 residents share bb2's one
    # place, the category-5 resident could live in bb1 and is not named.
    inp = round_input(
        [barnebolig("bb1"), barnebolig("bb2", categories="4;5")],
        [resident("B0001"), resident("B0002", category="4"), resident("B0003", category="4")],
    )

    (line,) = conflicts_of(inp)
    assert line.startswith("Barnebolig bb2: 2 residents but 1 usable place")
    assert "B0002, B0003" in line and "B0001" not in line


def test_resident_whose_only_barnebolig_is_closed_is_named():
    inp = round_input(
        [barnebolig("bb")], [resident("B0001")], closures=[closure("bb", day(5), day(5))]
    )

    assert conflicts_of(inp) == [
        "B0001 (level 6) has no barnebolig place it may use on 1 night(s): 2027-01-09: bb "
        "closed, held for acute cases or forbidden to it by a pin. Open places, lift a closure "
        "or acute reserve, or lift the pin."
    ]


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

ENV = {"COLUMNS": "400"}  # one message a line


def short_round(folder: Path) -> Path:
    write_round(
        round_input(
            [barnebolig("bb1"), barnebolig("bb2")],
            [resident("B0001", home_house="bb1"), resident("B0002"), resident("B0003")],
        ),
        folder,
    )
    return folder


def test_validate_exits_2_naming_houses_residents_and_nights(tmp_path: Path):
    folder = short_round(tmp_path / "round")

    result = CliRunner().invoke(app, ["validate", str(folder)], env=ENV)

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert "The round cannot be planned" in result.output
    assert (
        "Barnebolig houses bb1, bb2 together: 3 residents but 2 usable places on 2027-01-04"
        in result.output
    )
    assert "B0001, B0002, B0003" in result.output
    assert "Input OK" not in result.output


def test_plan_exits_1_before_solving(tmp_path: Path):
    folder = short_round(tmp_path / "round")
    out = tmp_path / "plan"

    result = CliRunner().invoke(
        app,
        ["plan", str(folder), "--out", str(out), "--time-limit", "5", "--workers", "1"],
        env=ENV,
    )

    assert result.exit_code == EXIT_NO_PLAN, result.output
    assert "Barnebolig houses bb1, bb2 together" in result.output
    assert "checker found" not in result.output
    assert not (out / "bookings.csv").exists()


# ---------------------------------------------------------------------------------------------
# Known gap outside `diagnose`
# ---------------------------------------------------------------------------------------------


def test_decomposed_short_of_time_still_gives_every_resident_a_bed():
    # A bed for both exists (B0001 in bb1, B0002 in bb2), but the greedy plan puts B0001 in
    # its home bb2 first and B0002, who may only use bb2, gets no bed.
    inp = round_input(
        [barnebolig("bb1"), barnebolig("bb2", categories="4;5")],
        [resident("B0001", home_house="bb2"), resident("B0002", category="4")],
    )
    assert conflicts_of(inp) == []
    result = solve_round(
        build_instance(inp),
        inp.config.weights,
        SolveParams(time_limit=0.5, workers=1, method="decomposed"),
    )
    assert result.status.has_plan
    assert check_plan(inp, result.bookings) == []
