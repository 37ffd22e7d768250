"""`read_round` on bad input: every problem names file, row and column, all in one pass."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from io_helpers import VALID, RoundWriter, find, problems_of

from allocator.io.errors import InputError, Problem
from allocator.io.reader import read_round

HEADER_CHILDREN = VALID["children.csv"].splitlines()[0]
HEADER_HOUSES = VALID["houses.csv"].splitlines()[0]


def _children(*rows: str) -> str:
    return "\n".join([HEADER_CHILDREN, *rows]) + "\n"


def _houses(*rows: str) -> str:
    return "\n".join([HEADER_HOUSES, *rows]) + "\n"


GOOD_B1 = "B0001,2012-03-04,3,2,20,2027-01-01,2027-06-30,weekend,H01"
GOOD_B2 = "B0002,2010-05-06,4,3,40,2027-01-01,2027-06-30,week,H02"
GOOD_B3 = "B0003,2011-07-08,5,6,181,2027-01-01,2027-06-30,any,H03"
GOOD_H01 = "H01,Sandalstunet,avlastningsbolig,kommunal,4,2;3,4,true,350,4500"
GOOD_H02 = "H02,Vestlund,avlastningsbolig,kommunal,10,4,,true,350,5200"
GOOD_H03 = "H03,Utsikten,barnebolig,kommunal,3,5,,true,350,6000"


def test_problem_str_names_file_row_and_column() -> None:
    problem = Problem("children.csv", 14, "granted_nights", "not a whole number: 'ti'")
    assert str(problem) == "children.csv, row 14, column granted_nights: not a whole number: 'ti'"
    assert str(Problem("round.toml", None, None, "required file is missing")) == (
        "round.toml: required file is missing"
    )
    error = InputError([problem, Problem("houses.csv", 2, "places", "must be ≥ 0, got '-1'")])
    assert str(error).splitlines() == [
        "2 problems in the input:",
        "  children.csv, row 14, column granted_nights: not a whole number: 'ti'",
        "  houses.csv, row 2, column places: must be ≥ 0, got '-1'",
    ]


def test_missing_input_path(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nowhere")
    assert len(problems) == 1
    assert problems[0].file == str(tmp_path / "nowhere")
    assert "not found" in problems[0].message


def test_unsupported_input_path(tmp_path: Path) -> None:
    path = tmp_path / "round.txt"
    path.write_text("hei")
    assert "folder of CSV files or an .xlsx" in problems_of(path)[0].message


@pytest.mark.parametrize(
    ("row", "column", "text"),
    [
        ("B0001,2012-03-04,3,2,ti,2027-01-01,2027-06-30,weekend,H01", "granted_nights",
         "not a whole number: 'ti'"),
        ("B0001,2012-03-04,3,2,-4,2027-01-01,2027-06-30,weekend,H01", "granted_nights",
         "must be ≥ 0"),
        ("B0001,2012-03-04,7,2,20,2027-01-01,2027-06-30,weekend,H01", "category",
         "unknown category '7' (expected 2, 3, 4, 5 or P)"),
        ("B0001,2012-03-04,3,9,20,2027-01-01,2027-06-30,weekend,H01", "level", "must be ≤ 6"),
        ("B0001,31.02.2012,3,2,20,2027-01-01,2027-06-30,weekend,H01", "birth_date",
         "not a date: '31.02.2012' (day is out of range for month)"),
        ("B0001,0,3,2,20,2027-01-01,2027-06-30,weekend,H01", "birth_date",
         "not a date: '0' (expected YYYY-MM-DD or DD.MM.YYYY)"),
        ("B0001,2012-03-04,3,2,20,2027-01-01,2027-06-30,helg,H01", "pattern",
         "unknown value 'helg' (expected weekend, week, weekdays or any)"),
        ("B 0001,2012-03-04,3,2,20,2027-01-01,2027-06-30,weekend,H01", "child_id",
         "not a valid id: 'B 0001'"),
        ("B0001,2012-03-04,3,2,,2027-01-01,2027-06-30,weekend,H01", "granted_nights",
         "empty; a value is required"),
        ("B0001,2012-03-04,3,2,20,2027-06-30,2027-01-01,weekend,H01", "vedtak_to",
         "vedtak_to is before vedtak_from"),
    ],
)  # fmt: skip
def test_bad_child_cell(make_round: RoundWriter, row: str, column: str, text: str) -> None:
    problems = problems_of(make_round(children_csv=_children(GOOD_B2, row)))
    find(problems, "children.csv", 3, column, text)


def test_bad_boolean(make_round: RoundWriter) -> None:
    text = "\n".join([HEADER_CHILDREN + ",under_10_exception", GOOD_B1 + ",kanskje"]) + "\n"
    problems = problems_of(make_round(children_csv=text, incompatible_csv=None))
    find(problems, "children.csv", 2, "under_10_exception", "not a yes/no value: 'kanskje'")


def test_bad_house_cells(make_round: RoundWriter) -> None:
    houses = _houses(
        GOOD_H01,
        "H02,Vestlund,avlastningsbolig,kommunal,-1,4,,true,350,5200",
        "H03,Utsikten,barnebolig,kommunal,3,5;7,,true,350,6000",
    )
    problems = problems_of(make_round(houses_csv=houses))
    find(problems, "houses.csv", 3, "places", "must be ≥ 0")
    find(problems, "houses.csv", 4, "categories", "unknown category '7'")


def test_to_before_from(make_round: RoundWriter) -> None:
    text = "child_id,from,to,reason\nB0001,2027-06-30,2027-06-20,sommerleir\n"
    problems = problems_of(make_round(unavailable_csv=text))
    find(problems, "unavailable.csv", 2, "to", "'to' is before 'from'")


def test_bad_from_date_names_the_from_column(make_round: RoundWriter) -> None:
    text = "house_id,from,to,places_closed\nH02,1. april,2027-04-10,2\n"
    find(problems_of(make_round(closures_csv=text)), "closures.csv", 2, "from", "not a date")


def test_duplicate_ids(make_round: RoundWriter) -> None:
    problems = problems_of(
        make_round(
            houses_csv=_houses(GOOD_H01, GOOD_H02, GOOD_H03, GOOD_H01),
            children_csv=_children(GOOD_B1, GOOD_B2, GOOD_B3, GOOD_B2),
        )
    )
    find(problems, "houses.csv", 5, "house_id", "duplicate house_id 'H01' (first on row 2)")
    find(problems, "children.csv", 5, "child_id", "duplicate child_id 'B0002' (first on row 3)")


def test_unknown_houses(make_round: RoundWriter) -> None:
    toml = VALID["round.toml"].replace("H02 = 1", "H02 = 1\nH99 = 1")
    problems = problems_of(
        make_round(
            children_csv=_children(GOOD_B1, GOOD_B2.replace("H02", "H77")),
            closures_csv="house_id,from,to,places_closed\nH88,2027-04-01,2027-04-10,1\n",
            round_toml=toml,
        )
    )
    find(problems, "children.csv", 3, "home_house", "unknown house 'H77' (not in houses.csv)")
    find(problems, "closures.csv", 2, "house_id", "unknown house 'H88'")
    find(problems, "round.toml", 8, "acute_reserve.H99", "unknown house 'H99'")
    assert len(problems) == 3


def test_unknown_children(make_round: RoundWriter) -> None:
    problems = problems_of(
        make_round(
            unavailable_csv="child_id,from,to,reason\nB0404,2027-06-20,2027-06-30,family\n",
            wishes_csv="child_id,from,to,kind,weight\nB0001,2027-03-01,2027-03-07,want,1\n"
            "B0405,2027-03-01,2027-03-07,avoid,1\n",
            incompatible_csv="child_a,child_b\nB0001,B0406\nB0407,B0002\n",
        )
    )
    find(problems, "unavailable.csv", 2, "child_id", "unknown child 'B0404'")
    find(problems, "wishes.csv", 3, "child_id", "unknown child 'B0405'")
    find(problems, "incompatible.csv", 2, "child_b", "unknown child 'B0406'")
    find(problems, "incompatible.csv", 3, "child_a", "unknown child 'B0407'")
    assert len(problems) == 4


def test_invalid_child_row_is_still_known_to_other_files(make_round: RoundWriter) -> None:
    bad_b1 = GOOD_B1.replace(",20,", ",ti,")
    problems = problems_of(make_round(children_csv=_children(bad_b1, GOOD_B2, GOOD_B3)))
    assert [(p.file, p.column) for p in problems] == [("children.csv", "granted_nights")]


def test_missing_required_columns(make_round: RoundWriter) -> None:
    text = "child_id,birth_date,category,level,vedtak_from,vedtak_to\nB0001,2012-03-04,3,2,x,y\n"
    problems = problems_of(make_round(children_csv=text))
    find(problems, "children.csv", 1, "granted_nights", "missing required column 'granted_nights'")
    assert [p.column for p in problems if p.file == "children.csv"] == ["granted_nights"]


def test_missing_required_files(make_round: RoundWriter) -> None:
    problems = problems_of(make_round(children_csv=None, round_toml=None))
    find(problems, "children.csv", None, None, "required file is missing")
    find(problems, "round.toml", None, None, "required file is missing")


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"\x00\x01\x02binary\xff\x00", "not a text file"),
        (b"child_id\x81\x8d\x8f\x90\x9d\n", "not a text file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "is a zip file"),
    ],
)
def test_file_that_is_not_text(make_round: RoundWriter, content: bytes, text: str) -> None:
    problems = problems_of(make_round(wishes_csv=content))
    find(problems, "wishes.csv", None, None, text)
    assert len(problems) == 1


def test_file_that_is_not_a_csv_table(make_round: RoundWriter) -> None:
    memo = "Husk å ringe foreldrene.\nMøte tirsdag.\n"
    problems = problems_of(make_round(houses_csv=memo))
    find(problems, "houses.csv", 1, None, "none of the expected columns")
    # Houses could not be read, so references to houses are not reported as unknown.
    assert len(problems) == 1


def test_row_with_more_cells_than_header(make_round: RoundWriter) -> None:
    text = "house_id,from,to,places_closed\nH02,2027-04-01,2027-04-10,2,avd 2\n"
    find(problems_of(make_round(closures_csv=text)), "closures.csv", 2, None, "has 5 cells")


def test_vedtak_over_one_year(make_round: RoundWriter) -> None:
    long = GOOD_B1.replace("2027-06-30", "2028-01-15")
    problems = problems_of(make_round(children_csv=_children(long, GOOD_B2, GOOD_B3)))
    find(problems, "children.csv", 2, "vedtak_to", "forbids a vedtak over one year")


def test_home_house_must_take_the_category(make_round: RoundWriter) -> None:
    b2_in_h01 = GOOD_B2.replace("H02", "H01")  # category 4 is conditional in H01: fine
    b3_in_h02 = GOOD_B3.replace("H03", "H02")  # category 5 is not taken in H02
    problems = problems_of(make_round(children_csv=_children(GOOD_B1, b2_in_h01, b3_in_h02)))
    find(problems, "children.csv", 4, "home_house", "does not take category 5 (it takes 4)")
    assert len(problems) == 1


def test_round_toml_syntax_error(make_round: RoundWriter) -> None:
    problems = problems_of(make_round(round_toml='start = 2027-01-01\nend = "2027-06-30\n'))
    find(problems, "round.toml", 2, None, "not valid TOML")


def test_round_toml_unknown_keys_and_end_before_start(make_round: RoundWriter) -> None:
    toml = "start = 2027-06-30\nend = 2027-01-01\nsed = 3\n[weights]\nnight = 4\n"
    problems = problems_of(make_round(round_toml=toml))
    find(problems, "round.toml", 3, "sed", "unknown key 'sed' (allowed: start, end,")
    find(problems, "round.toml", 5, "weights.night", "unknown key 'weights.night'")
    assert len(problems) == 2
    problems = problems_of(make_round(round_toml="start = 2027-06-30\nend = 2027-01-01\n"))
    find(problems, "round.toml", 2, "end", "end is before start")


def test_round_toml_bad_values(make_round: RoundWriter) -> None:
    toml = 'start = "tirsdag"\nend = 2027-06-30\nworkers = 0\n[acute_reserve]\nH01 = "to"\n'
    problems = problems_of(make_round(round_toml=toml))
    find(problems, "round.toml", 1, "start", "not a date: 'tirsdag'")
    find(problems, "round.toml", 3, "workers", "must be ≥ 1")
    find(problems, "round.toml", 5, "acute_reserve.H01", "not a whole number: 'to'")
    find(problems_of(make_round(round_toml="end = 2027-06-30\n")), "round.toml", None, "start")


def test_round_toml_date_with_a_time_of_day(make_round: RoundWriter) -> None:
    # TOML reads this as a date and time, which the round's whole days cannot be; the
    # message shows the value as written, not the date alone (which would look valid).
    problems = problems_of(make_round(round_toml="start = 2027-01-01T08:00:00\nend = 2027-06-30\n"))
    find(
        problems,
        "round.toml",
        1,
        "start",
        "a date without a time of day is expected, got '2027-01-01T08:00:00'"
        " (write start = 2027-01-01)",
    )
    assert len(problems) == 1


def test_acute_reserve_larger_than_places(make_round: RoundWriter) -> None:
    toml = VALID["round.toml"].replace("H02 = 1", "H02 = 1\nH01 = 5")
    problems = problems_of(make_round(round_toml=toml))
    find(problems, "round.toml", 8, "acute_reserve.H01", "5 is more than the 4 places")
    assert len(problems) == 1


def test_many_problems_in_many_files_in_one_pass(make_round: RoundWriter) -> None:
    problems = problems_of(
        make_round(
            houses_csv=_houses(GOOD_H01, GOOD_H02.replace(",10,", ",ti,"), GOOD_H03),
            children_csv=_children(GOOD_B1, GOOD_B2.replace(",week,", ",sometimes,"), GOOD_B3),
            wishes_csv="child_id,from,to,kind,weight\nB0999,2027-03-01,2027-03-07,want,-1\n",
            round_toml="colour = 1\n" + VALID["round.toml"],
        )
    )
    where = {(p.file, p.row, p.column) for p in problems}
    assert where == {
        ("houses.csv", 3, "places"),
        ("children.csv", 3, "pattern"),
        ("wishes.csv", 2, "weight"),
        ("wishes.csv", 2, "child_id"),
        ("round.toml", 1, "colour"),
    }


def test_workbook_problems_name_sheet_and_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    houses = workbook.active
    assert houses is not None
    houses.title = "houses"
    for line in VALID["houses.csv"].splitlines():
        houses.append(line.split(","))
    children = workbook.create_sheet("children.csv")
    children.append(HEADER_CHILDREN.split(","))
    children.append(GOOD_B1.split(","))
    children.append(["B0002", dt.datetime(2010, 5, 6), 4, 3, "mange", *GOOD_B2.split(",")[5:]])
    settings = workbook.create_sheet("Round")
    for row in (["key", "value"], ["start", "2027-01-01"], ["end", "2026-01-01"], ["x.y", 1]):
        settings.append(row)
    path = tmp_path / "runde.xlsx"
    workbook.save(path)

    problems = problems_of(path)
    find(problems, "runde.xlsx, sheet children.csv", 3, "granted_nights", "'mange'")
    find(problems, "runde.xlsx, sheet Round", 4, "x.y", "unknown key")
    assert len(problems) == 2


def test_workbook_missing_sheets_and_broken_file(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    path = tmp_path / "tom.xlsx"
    workbook.save(path)
    problems = problems_of(path)
    find(problems, "tom.xlsx, sheet houses", None, None, "required file is missing")
    find(problems, "tom.xlsx, sheet round", None, None, "required sheet is missing")

    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a zip")
    find(problems_of(broken), "broken.xlsx", None, None, "not a readable .xlsx workbook")


def test_header_below_blank_lines_reports_its_own_row(make_round: RoundWriter) -> None:
    text = "\n\nhouse_id,from,to\nH02,2027-04-01,2027-04-10\n"
    problems = problems_of(make_round(closures_csv=text))
    find(problems, "closures.csv", 3, "places_closed", "missing required column")


def test_sep_line_rows_count_as_excel_shows_them(make_round: RoundWriter) -> None:
    text = "sep=;\nchild_id;from;to;reason\nB0001;2027-06-20;2027-06-30;sommer\n"
    find(problems_of(make_round(unavailable_csv=text)), "unavailable.csv", 2, "reason", "sommer")


def test_sheet_given_twice(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.title = "houses"
    for title in ("houses.csv", "children", "round"):
        workbook.create_sheet(title)
    path = tmp_path / "dobbel.xlsx"
    workbook.save(path)
    find(problems_of(path), "dobbel.xlsx, sheet houses", None, None, "'houses.csv' holds the same")


def test_a_misspelt_optional_column_is_named_not_defaulted(make_round: RoundWriter) -> None:
    text = VALID["children.csv"].replace(",pattern,", ",patern,", 1)
    problems = problems_of(make_round(children_csv=text))
    find(problems, "children.csv", 1, "patern", "did you mean 'pattern'?")


def test_an_added_column_is_allowed(make_round: RoundWriter) -> None:
    lines = VALID["children.csv"].splitlines()
    text = "\n".join([lines[0] + ",coordinator"] + [row + ",K1" for row in lines[1:]]) + "\n"
    assert read_round(make_round(children_csv=text)).children


def test_a_closure_of_more_places_than_the_house_has(make_round: RoundWriter) -> None:
    text = VALID["closures.csv"].replace(
        "H02,2027-04-01,2027-04-10,2", "H01,2027-04-01,2027-04-10,9"
    )
    problems = problems_of(make_round(closures_csv=text))
    find(problems, "closures.csv", 2, "places_closed", "closes 9 places; H01 has 4")


def test_an_unknown_calendar_kind(make_round: RoundWriter) -> None:
    text = VALID["calendar.csv"].replace("public_holiday", "party")
    problems = problems_of(make_round(calendar_csv=text))
    find(problems, "calendar.csv", 2, "kind", "party")


def test_an_endless_time_limit(make_round: RoundWriter) -> None:
    text = VALID["round.toml"].replace("time_limit = 30", "time_limit = inf")
    problems = problems_of(make_round(round_toml=text))
    assert any(p.column == "time_limit" for p in problems), problems


def test_a_child_twice_on_the_waiting_list(tmp_path: Path) -> None:
    from allocator.io.waiting import read_waiting

    waiting = tmp_path / "waiting.csv"
    row = "W001,2027-01-04,3,2,2\n"
    waiting.write_text("child_id,applied,category,level,nights_wanted\n" + row + row, "utf-8")
    with pytest.raises(InputError) as caught:
        read_waiting(waiting)
    find(caught.value.problems, "waiting.csv", 3, "child_id", "duplicate child_id 'W001'")


def test_a_pin_ending_before_it_starts_names_column_to(make_round: RoundWriter) -> None:
    text = "child_id,house_id,from,to,kind\nB0001,H01,2027-03-10,2027-03-08,pin\n"
    problems = problems_of(make_round(pins_csv=text))
    find(problems, "pins.csv", 2, "to", "'to' is before 'from'")
