"""Guideline warnings and errors on a valid round (181 nights, 2027-01-01 .. 2027-06-30)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from io_helpers import VALID, RoundWriter, find

from allocator.io.reader import read_round
from allocator.validate import guideline_errors, guideline_warnings

HEADER = (
    "child_id,birth_date,category,level,granted_nights,vedtak_from,vedtak_to,pattern,home_house,"
    "under_10_exception,interdisciplinary_assessment"
)


def _children(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def _row(
    child: str,
    level: int,
    nights: int,
    *,
    born: str = "2012-01-01",
    cat: str = "3",
    exc: str = "",
    assessed: str = "ja",
    home: str = "",
) -> str:
    vedtak = "2027-01-01,2027-06-30"
    return f"{child},{born},{cat},{level},{nights},{vedtak},any,{home},{exc},{assessed}"


def _read(make_round: RoundWriter, *rows: str, unavailable: str | None = None) -> Path:
    return make_round(
        children_csv=_children(*rows),
        unavailable_csv=unavailable,
        wishes_csv=None,
        incompatible_csv=None,
    )


def test_valid_round_has_one_warning_only(make_round: RoundWriter) -> None:
    inp = read_round(make_round())
    # B0003 is level 6 without an interdisciplinary_assessment column.
    warnings = guideline_warnings(inp)
    assert [(w.file, w.row, w.column) for w in warnings] == [
        ("children.csv", 4, "interdisciplinary_assessment")
    ]
    assert "B0003" in warnings[0].message
    assert guideline_errors(inp) == []


def test_level_band_is_scaled_to_the_round(make_round: RoundWriter) -> None:
    # Level 2 is 37–72 a year; 181 nights → floor(37·181/365)=18 .. ceil(72·181/365)=36.
    inp = read_round(
        _read(
            make_round,
            _row("B0001", 2, 18),
            _row("B0002", 2, 36),
            _row("B0003", 2, 17),
            _row("B0004", 2, 37),
            _row("B0005", 5, 89),  # level 5: > 180 a year → at least floor(181·181/365) = 89
            _row("B0006", 5, 88),
        )
    )
    warnings = guideline_warnings(inp)
    assert [(w.row, w.column) for w in warnings] == [
        (4, "granted_nights"),
        (5, "granted_nights"),
        (7, "granted_nights"),
    ]
    assert "18–36" in warnings[0].message
    assert "at least 89" in warnings[2].message


def test_over_275_a_year_should_be_barnebolig(make_round: RoundWriter) -> None:
    # ceil(275·181/365) = 137
    inp = read_round(_read(make_round, _row("B0001", 5, 137), _row("B0002", 5, 138)))
    warning = find(guideline_warnings(inp), "children.csv", 3, "granted_nights", "barnebolig")
    assert "should as a rule be offered barnebolig" in warning.message


def test_under_10_needs_an_exception(make_round: RoundWriter) -> None:
    inp = read_round(
        _read(
            make_round,
            _row("B0001", 1, 10, born="2017-01-02"),  # 9 at 2027-01-01
            _row("B0002", 1, 10, born="2017-01-02", exc="ja"),
            _row("B0003", 1, 10, born="2017-01-01"),  # 10 on the first night
        )
    )
    warnings = guideline_warnings(inp)
    assert [(w.row, w.column) for w in warnings] == [(2, "under_10_exception")]
    assert "is 9 at the start of the round" in warnings[0].message


def test_levels_5_and_6_need_an_assessment(make_round: RoundWriter) -> None:
    inp = read_round(
        _read(
            make_round,
            _row("B0001", 5, 100, assessed="nei"),
            _row("B0002", 5, 100, assessed="ja"),
            _row("B0003", 4, 70, assessed=""),
        )
    )
    warnings = guideline_warnings(inp)
    assert [(w.row, w.column) for w in warnings] == [(2, "interdisciplinary_assessment")]


def test_level_6_must_be_granted_every_available_night(make_round: RoundWriter) -> None:
    rows = (
        _row("B0001", 6, 170, cat="5", home="H03"),
        _row("B0002", 6, 171, cat="5", home="H03"),
    )
    unavailable = "child_id,from,to,reason\nB0002,2027-06-20,2027-06-29,ferietilbud\n"
    inp = read_round(_read(make_round, *rows, unavailable=unavailable))
    errors = guideline_errors(inp)
    assert [(e.file, e.row, e.column) for e in errors] == [("children.csv", 2, "granted_nights")]
    assert "available 181 nights" in errors[0].message
    assert not [w for w in guideline_warnings(inp) if w.column == "granted_nights"]


def test_rows_follow_the_file_with_blank_lines(make_round: RoundWriter) -> None:
    text = _children(_row("B0001", 2, 20), "", "", _row("B0002", 2, 5))
    inp = read_round(make_round(children_csv=text, wishes_csv=None, incompatible_csv=None))
    find(guideline_warnings(inp), "children.csv", 5, "granted_nights", "B0002")


def test_rows_fall_back_to_file_order_without_source(make_round: RoundWriter) -> None:
    inp = read_round(_read(make_round, _row("B0001", 2, 20), _row("B0002", 2, 5)))
    moved = type(inp)(config=inp.config, houses=inp.houses, children=inp.children)
    find(guideline_warnings(moved), "children.csv", 3, "granted_nights", "B0002")


def test_workbook_rows_name_the_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "houses"
    for line in VALID["houses.csv"].splitlines():
        sheet.append(line.split(","))
    children = workbook.create_sheet("children")
    children.append(HEADER.split(","))
    children.append([])
    children.append(_row("B0001", 2, 5).split(","))
    settings = workbook.create_sheet("round")
    settings.append(["start", "2027-01-01"])
    settings.append(["end", "2027-06-30"])
    path = tmp_path / "runde.xlsx"
    workbook.save(path)
    warnings = guideline_warnings(read_round(path))
    find(warnings, "runde.xlsx, sheet children", 3, "granted_nights", "outside level 2")
