"""Child ids that look like national ID numbers are refused at read time, never echoed.

Every number here is made up, shaped like a fødselsnummer (DDMMYY + five digits) or a D-number
(4 added to the first digit), with check digits that do not add up: none is a real person's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import csv_sheets
from io_helpers import VALID, find, problems_of, write_files
from typer.testing import CliRunner, Result

from allocator.cli import EXIT_BAD_INPUT, app
from allocator.io.bookings import read_bookings
from allocator.io.errors import InputError
from allocator.io.national_id import (
    NATIONAL_ID,
    NATIONAL_ID_MESSAGE,
    hide_national_ids,
    looks_like_national_id,
)
from allocator.io.reader import read_round
from allocator.io.waiting import read_waiting

FNR = "01019912345"  # made up: 1 January 1999, check digits wrong
D_NUMBER = "41019912345"  # the same made-up number as a D-number (first digit + 4)
OTHER_FNR = "24120598765"  # made up: 24 December 2005, check digits wrong

ENV = {"COLUMNS": "400"}  # a wide console: rich does not wrap a problem over two lines
SAYS = "looks like a national ID number"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def round_with(tmp_path: Path, **files: str) -> Path:
    """The valid round of `io_helpers` with some files' text replaced."""
    texts = dict(VALID)
    texts.update({name.replace("_csv", ".csv"): text for name, text in files.items()})
    return write_files(tmp_path / "round", texts)


def children_with(first_id: str) -> str:
    """children.csv of the valid round with the first child's id replaced (row 2)."""
    return VALID["children.csv"].replace("B0001,", f"{first_id},", 1)


def assert_not_echoed(text: str, *numbers: str) -> None:
    for number in numbers:
        assert number not in text
    assert not NATIONAL_ID.search(text), text


# ---------------------------------------------------------------------------------------------
# The rule
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [FNR, D_NUMBER, OTHER_FNR, "010199 12345", f"X{FNR}"])
def test_national_id_shapes_are_recognised(text: str) -> None:
    assert looks_like_national_id(text)
    assert hide_national_ids(f"a {text} b") != f"a {text} b"


@pytest.mark.parametrize(
    "text", ["B0001", "AK001", "W001", "S0001", "B0000000001", "1234567890", "12345", "007"]
)
def test_pseudonyms_are_not_national_ids(text: str) -> None:
    assert not looks_like_national_id(text)


def test_the_message_never_holds_a_number() -> None:
    assert not NATIONAL_ID.search(NATIONAL_ID_MESSAGE)
    assert "pseudonym" in NATIONAL_ID_MESSAGE


def test_the_store_shares_the_rule() -> None:
    from allocator.store import db

    assert db._NATIONAL_ID is NATIONAL_ID


# ---------------------------------------------------------------------------------------------
# Through the command line: exit 2, file, row and column named, the number never shown
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [FNR, D_NUMBER], ids=["fodselsnummer", "d-number"])
def test_validate_refuses_a_national_id_in_children_csv(tmp_path: Path, number: str) -> None:
    folder = round_with(tmp_path, children_csv=children_with(number))

    result = run("validate", folder)

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"children.csv, row 2, column child_id: {SAYS}" in result.output
    assert "only pseudonyms" in result.output
    assert "Input OK" not in result.output
    assert_not_echoed(result.output, number)


def test_plan_refuses_a_national_id_before_solving(tmp_path: Path) -> None:
    folder = round_with(tmp_path, children_csv=children_with(FNR))

    result = run("plan", folder, "--out", tmp_path / "plan", "--time-limit", "1")

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"children.csv, row 2, column child_id: {SAYS}" in result.output
    assert_not_echoed(result.output, FNR)
    assert not (tmp_path / "plan").exists()


def test_validate_refuses_a_national_id_in_wishes_csv(tmp_path: Path) -> None:
    wishes = VALID["wishes.csv"] + f"{OTHER_FNR},2027-03-01,2027-03-07,want,5\n"
    folder = round_with(tmp_path, wishes_csv=wishes)

    result = run("validate", folder)

    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"wishes.csv, row 3, column child_id: {SAYS}" in result.output
    assert "unknown child" not in result.output  # the cell is not looked up (and shown) again
    assert_not_echoed(result.output, OTHER_FNR)


# ---------------------------------------------------------------------------------------------
# Every file with a child id, all reported in one pass
# ---------------------------------------------------------------------------------------------


def test_every_file_with_a_child_id_is_checked_in_one_pass(tmp_path: Path) -> None:
    folder = round_with(
        tmp_path,
        children_csv=children_with(FNR),
        unavailable_csv=f"child_id,from,to,reason\n{D_NUMBER},2027-06-20,2027-06-30,family\n",
        wishes_csv=f"child_id,from,to,kind,weight\n{FNR},2027-03-01,2027-03-07,want,5\n",
        incompatible_csv=f"child_a,child_b\n{FNR},B0002\nB0003,010199 12345\n",
        pins_csv=f"child_id,house_id,from,to,kind\n{OTHER_FNR},H01,2027-02-05,2027-02-06,pin\n",
    )

    problems = problems_of(folder)

    for file, row, column in [
        ("children.csv", 2, "child_id"),
        ("unavailable.csv", 2, "child_id"),
        ("wishes.csv", 2, "child_id"),
        ("incompatible.csv", 2, "child_a"),
        ("incompatible.csv", 3, "child_b"),
        ("pins.csv", 2, "child_id"),
    ]:
        assert find(problems, file, row, column, SAYS).message == NATIONAL_ID_MESSAGE
    assert len(problems) == 6, problems  # no "unknown child" or "duplicate" repeats
    assert_not_echoed("\n".join(map(str, problems)), FNR, D_NUMBER, OTHER_FNR)


def test_the_rest_of_the_row_is_still_checked(tmp_path: Path) -> None:
    children = children_with(FNR).replace("2012-03-04", "not-a-date", 1)
    folder = round_with(tmp_path, children_csv=children)

    problems = problems_of(folder)

    find(problems, "children.csv", 2, "child_id", SAYS)
    find(problems, "children.csv", 2, "birth_date", "not a date")
    assert len([p for p in problems if p.file == "children.csv"]) == 2, problems


def test_a_national_id_in_another_column_is_not_echoed(tmp_path: Path) -> None:
    unavailable = f"child_id,from,to,reason\nB0001,{FNR},2027-06-30,family\n"
    folder = round_with(tmp_path, unavailable_csv=unavailable)

    problems = problems_of(folder)

    problem = find(problems, "unavailable.csv", 2, "from", "not a date")
    assert_not_echoed(str(problem), FNR)


def test_a_workbook_sheet_is_named(tmp_path: Path) -> None:
    folder = round_with(tmp_path, children_csv=children_with(FNR))
    workbook = csv_sheets(folder)
    workbook["children"]["A3"] = int(OTHER_FNR)  # typed into Excel: a number cell, not text
    settings = workbook.create_sheet("round")
    settings.append(["key", "value"])
    settings.append(["start", "2027-01-01"])
    settings.append(["end", "2027-06-30"])
    book = tmp_path / "round.xlsx"
    workbook.save(book)

    problems = problems_of(book)

    find(problems, "round.xlsx, sheet children", 2, "child_id", SAYS)
    find(problems, "round.xlsx, sheet children", 3, "child_id", SAYS)
    assert_not_echoed("\n".join(map(str, problems)), FNR, OTHER_FNR)


def test_waiting_csv_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "waiting.csv"
    path.write_text(
        f"child_id,applied,category,level,nights_wanted\n{D_NUMBER},2027-01-10,3,2,10\n",
        encoding="utf-8",
    )

    with pytest.raises(InputError) as info:
        read_waiting(path)

    assert [(p.file, p.row, p.column) for p in info.value.problems] == [
        ("waiting.csv", 2, "child_id")
    ]
    assert_not_echoed(str(info.value), D_NUMBER)


def test_bookings_csv_is_checked(tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "bookings.csv").write_text(
        f"child_id,house_id,night\nB0001,H01,2027-01-04\n{FNR},H01,2027-01-04\n{D_NUMBER},H01,x\n",
        encoding="utf-8",
    )

    with pytest.raises(InputError) as info:
        read_bookings(plan)

    where = [(p.file, p.row, p.column) for p in info.value.problems]
    assert where == [
        ("bookings.csv", 3, "child_id"),
        ("bookings.csv", 4, "child_id"),
        ("bookings.csv", 4, "night"),
    ]
    assert info.value.problems[0].message == NATIONAL_ID_MESSAGE
    assert_not_echoed(str(info.value), FNR, D_NUMBER)


# ---------------------------------------------------------------------------------------------
# Pseudonyms still pass
# ---------------------------------------------------------------------------------------------


def test_pseudonyms_still_pass(tmp_path: Path) -> None:
    children = (
        VALID["children.csv"]
        .replace("B0001", "B0000000001")
        .replace("B0002", "1234567890")
        .replace("B0003", "AK001")
    )
    wishes = "child_id,from,to,kind,weight\n1234567890,2027-03-01,2027-03-07,want,5\n"
    incompatible = "child_a,child_b\nB0000000001,AK001\n"
    unavailable = "child_id,from,to,reason\nB0000000001,2027-06-20,2027-06-30,sommerleir\n"
    folder = round_with(
        tmp_path,
        children_csv=children,
        wishes_csv=wishes,
        incompatible_csv=incompatible,
        unavailable_csv=unavailable,
    )

    inp = read_round(folder)

    assert [c.child_id for c in inp.children] == ["B0000000001", "1234567890", "AK001"]
    assert [w.child_id for w in inp.wishes] == ["1234567890"]


def test_validate_accepts_an_eleven_character_pseudonym(tmp_path: Path) -> None:
    children = VALID["children.csv"].replace("B0001", "B0000000001")
    unavailable = VALID["unavailable.csv"].replace("B0001", "B0000000001")
    incompatible = "child_a,child_b\nB0000000001,B0002\n"
    folder = round_with(
        tmp_path,
        children_csv=children,
        unavailable_csv=unavailable,
        incompatible_csv=incompatible,
    )

    result = run("validate", folder)

    assert result.exit_code == 0, result.output
    assert "Input OK: 3 houses, 3 children" in result.output
    assert SAYS not in result.output


def test_the_bergen_round_still_reads() -> None:
    inp = read_round(Path(__file__).resolve().parents[2] / "data" / "bergen")

    assert inp.children
    assert not any(looks_like_national_id(c.child_id) for c in inp.children)
