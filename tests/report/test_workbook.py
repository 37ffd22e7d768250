"""Tests of the calendar workbook (`allocator.report.workbook`).

A tiny round: 2 houses, 3 children, the 7 nights Monday 4 – Sunday 10 January 2027 (ISO week 1;
Friday 8 and Saturday 9 are the weekend nights).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from allocator.report.workbook import (
    CHILD_LABELS,
    HOUSE_LABELS,
    HOUSE_PALETTE,
    LEGEND_HEADERS,
    SHEET_CHILD_NIGHTS,
    SHEET_HOUSE_NIGHTS,
    SHEET_HOUSES,
    SHEET_STAYS,
    STAY_HEADERS,
    house_colours,
    night_header,
    write_calendar_workbook,
)
from models.config import RoundConfig
from models.inputs import CalendarDay, Child, Closure, House, Unavailable
from models.outputs import Booking
from models.round_input import RoundInput

START = dt.date(2027, 1, 4)  # Monday
NIGHTS = [START + dt.timedelta(days=i) for i in range(7)]
FIRST_HOUSE_COL = len(HOUSE_LABELS) + 1  # column D
FIRST_CHILD_COL = len(CHILD_LABELS) + 1  # column F


def _night(day: int) -> dt.date:
    return dt.date(2027, 1, day)


def _col(first: int, night: dt.date) -> int:
    return first + (night - START).days


def _rgb(ws: Worksheet, row: int, col: int) -> str:
    """The fill colour of a cell as ``RRGGBB`` (openpyxl reads it back as ``00RRGGBB``)."""
    return str(ws.cell(row=row, column=col).fill.fgColor.rgb)[-6:]


@pytest.fixture()
def inp() -> RoundInput:
    houses = (
        House(
            house_id="H1",
            name="Testhus avlastningsbolig",
            kind="avlastningsbolig",
            owner="kommunal",
            places=2,
            categories="2;3",
            conditional_categories="4",
            night_watch=True,
        ),
        House(
            house_id="H2",
            name="Prøvehus avlastningsbolig",
            kind="avlastningsbolig",
            owner="privat",
            places=3,
            categories="2;3;4",
            night_watch=True,
        ),
    )
    common = {
        "birth_date": dt.date(2014, 5, 1),
        "category": "3",
        "level": 2,
        "vedtak_from": START,
        "vedtak_to": NIGHTS[-1],
    }
    children = (
        Child(child_id="B0001", granted_nights=3, **common),
        Child(child_id="B0002", granted_nights=2, **common),
        # Vedtak starts Wednesday: Monday and Tuesday are outside it.
        Child(child_id="B0003", granted_nights=2, **{**common, "vedtak_from": _night(6)}),
    )
    return RoundInput(
        config=RoundConfig(start=START, end=NIGHTS[-1], acute_reserve={"H2": 1}),
        houses=houses,
        children=children,
        unavailable=(
            Unavailable(
                child_id="B0002", reason="sommerleir", **{"from": _night(4), "to": _night(5)}
            ),
        ),
        closures=(
            Closure(house_id="H1", places_closed=1, **{"from": _night(10), "to": _night(10)}),
        ),
    )


@pytest.fixture()
def bookings() -> list[Booking]:
    return [
        # B0001: Friday and Saturday in H1, then Sunday in H2.
        Booking("B0001", "H1", _night(8)),
        Booking("B0001", "H1", _night(9)),
        Booking("B0001", "H2", _night(10)),
        # B0002: Friday and Saturday in H1 (H1 full both nights).
        Booking("B0002", "H1", _night(8)),
        Booking("B0002", "H1", _night(9)),
        # B0003: Wednesday in H2.
        Booking("B0003", "H2", _night(6)),
    ]


@pytest.fixture()
def workbook_path(tmp_path: Path, inp: RoundInput, bookings: list[Booking]) -> Path:
    path = tmp_path / "calendar.xlsx"
    holidays = {_night(6): "Helligdag for test"}
    write_calendar_workbook(inp, bookings, path, holidays=holidays)
    return path


def test_sheets_exist_in_order(workbook_path: Path) -> None:
    wb = load_workbook(workbook_path)
    assert wb.sheetnames == [SHEET_HOUSE_NIGHTS, SHEET_CHILD_NIGHTS, SHEET_HOUSES, SHEET_STAYS]


def test_no_temp_files_left(workbook_path: Path) -> None:
    assert sorted(p.name for p in workbook_path.parent.iterdir()) == ["calendar.xlsx"]


def test_overwrites_existing_file_without_leftovers(
    workbook_path: Path, inp: RoundInput, bookings: list[Booking]
) -> None:
    write_calendar_workbook(inp, bookings[:1], workbook_path, holidays={})
    assert sorted(p.name for p in workbook_path.parent.iterdir()) == ["calendar.xlsx"]
    ws = load_workbook(workbook_path)[SHEET_STAYS]
    assert ws.max_row == 2  # header + the one stay


def test_freeze_panes(workbook_path: Path) -> None:
    wb = load_workbook(workbook_path)
    # Two header rows; nights start after the label columns.
    assert wb[SHEET_HOUSE_NIGHTS].freeze_panes == "D3"
    assert wb[SHEET_CHILD_NIGHTS].freeze_panes == "F3"
    assert wb[SHEET_HOUSES].freeze_panes == "A2"
    assert wb[SHEET_STAYS].freeze_panes == "A2"


def test_night_headers(workbook_path: Path) -> None:
    assert night_header(_night(8)) == "fr 08.01"
    assert night_header(_night(10)) == "sø 10.01"
    ws = load_workbook(workbook_path)[SHEET_CHILD_NIGHTS]
    assert [ws.cell(row=1, column=FIRST_CHILD_COL + i).value for i in range(7)] == [
        "ma 04.01",
        "ti 05.01",
        "on 06.01",
        "to 07.01",
        "fr 08.01",
        "lø 09.01",
        "sø 10.01",
    ]
    # All seven nights are ISO week 1: one "uke 1" merged over them.
    assert ws.cell(row=2, column=FIRST_CHILD_COL).value == "uke 1"
    first, last = FIRST_CHILD_COL, FIRST_CHILD_COL + 6
    assert any(
        (r.min_row, r.min_col, r.max_row, r.max_col) == (2, first, 2, last)
        for r in ws.merged_cells.ranges
    )
    assert [ws.cell(row=2, column=i + 1).value for i in range(len(CHILD_LABELS))] == list(
        CHILD_LABELS
    )
    assert ws.cell(row=1, column=1).font.bold
    assert ws.column_dimensions["F"].width == pytest.approx(6)
    assert ws.column_dimensions["A"].width > 6


def test_week_header_splits_at_monday(tmp_path: Path, inp: RoundInput) -> None:
    """A round from Saturday to Tuesday spans weeks 53 (2026) and 1 (2027)."""
    config = RoundConfig(start=dt.date(2027, 1, 2), end=dt.date(2027, 1, 5))
    other = RoundInput(config=config, houses=inp.houses, children=inp.children)
    path = tmp_path / "weeks.xlsx"
    write_calendar_workbook(other, [], path, holidays={})
    ws = load_workbook(path)[SHEET_HOUSE_NIGHTS]
    assert ws.cell(row=2, column=FIRST_HOUSE_COL).value == "uke 53"
    assert ws.cell(row=2, column=FIRST_HOUSE_COL + 2).value == "uke 1"


def test_weekend_and_holiday_header_marking(workbook_path: Path) -> None:
    wb = load_workbook(workbook_path)
    for name, first in (
        (SHEET_HOUSE_NIGHTS, FIRST_HOUSE_COL),
        (SHEET_CHILD_NIGHTS, FIRST_CHILD_COL),
    ):
        ws = wb[name]
        friday, saturday = _rgb(ws, 1, _col(first, _night(8))), _rgb(ws, 1, _col(first, _night(9)))
        monday, sunday = _rgb(ws, 1, _col(first, _night(4))), _rgb(ws, 1, _col(first, _night(10)))
        holiday = _rgb(ws, 1, _col(first, _night(6)))
        assert friday == saturday
        assert friday != monday
        assert sunday == monday  # Sunday night is not a weekend night
        assert holiday not in (friday, monday)
        comment = ws.cell(row=1, column=_col(first, _night(6))).comment
        assert comment is not None
        assert comment.text == "Helligdag for test"
        assert ws.cell(row=1, column=_col(first, _night(4))).comment is None


def test_holidays_default_to_round_calendar(
    tmp_path: Path, inp: RoundInput, bookings: list[Booking]
) -> None:
    day = CalendarDay(kind="public_holiday", name="Testdag", **{"from": _night(7), "to": _night(7)})
    with_calendar = RoundInput(
        config=inp.config, houses=inp.houses, children=inp.children, calendar=(day,)
    )
    path = tmp_path / "cal.xlsx"
    write_calendar_workbook(with_calendar, bookings, path)
    ws = load_workbook(path)[SHEET_HOUSE_NIGHTS]
    comment = ws.cell(row=1, column=_col(FIRST_HOUSE_COL, _night(7))).comment
    assert comment is not None
    assert comment.text == "Testdag"


def test_child_grid_booked_cells_and_house_colours(workbook_path: Path) -> None:
    ws = load_workbook(workbook_path)[SHEET_CHILD_NIGHTS]
    rows = {ws.cell(row=r, column=1).value: r for r in range(3, ws.max_row + 1)}
    assert list(rows) == ["B0001", "B0002", "B0003"]
    b1, b2, b3 = rows["B0001"], rows["B0002"], rows["B0003"]

    friday = _col(FIRST_CHILD_COL, _night(8))
    assert ws.cell(row=b1, column=friday).value == "H1"
    assert ws.cell(row=b1, column=_col(FIRST_CHILD_COL, _night(10))).value == "H2"
    assert ws.cell(row=b1, column=_col(FIRST_CHILD_COL, _night(4))).value is None

    # One colour per house, the same in every cell of that house, different between houses.
    colours = house_colours(["H1", "H2"])
    assert colours == {"H1": HOUSE_PALETTE[0], "H2": HOUSE_PALETTE[1]}
    h1_cells = [(b1, friday), (b1, friday + 1), (b2, friday), (b2, friday + 1)]
    h2_cells = [(b1, _col(FIRST_CHILD_COL, _night(10))), (b3, _col(FIRST_CHILD_COL, _night(6)))]
    assert {_rgb(ws, r, c) for r, c in h1_cells} == {colours["H1"]}
    assert {_rgb(ws, r, c) for r, c in h2_cells} == {colours["H2"]}

    # Labels: granted and allocated nights.
    assert [ws.cell(row=b1, column=c).value for c in range(1, 6)] == ["B0001", "3", 2, 3, 3]
    assert ws.cell(row=b3, column=5).value == 1


def test_child_grid_unavailable_and_outside_vedtak(workbook_path: Path) -> None:
    ws = load_workbook(workbook_path)[SHEET_CHILD_NIGHTS]
    b2, b3 = 4, 5
    monday = _col(FIRST_CHILD_COL, _night(4))
    # B0002 is at summer camp Monday and Tuesday.
    assert ws.cell(row=b2, column=monday).value == "leir"
    assert ws.cell(row=b2, column=monday + 1).value == "leir"
    grey = _rgb(ws, b2, monday)
    assert grey not in HOUSE_PALETTE
    # B0003's vedtak starts Wednesday: Monday and Tuesday are hatched, not solid.
    outside = ws.cell(row=b3, column=monday).fill
    assert outside.fill_type not in (None, "solid")
    assert ws.cell(row=b3, column=monday).value is None
    # Thursday: inside the vedtak, available, not booked: left blank.
    thursday = ws.cell(row=b3, column=_col(FIRST_CHILD_COL, _night(7)))
    assert thursday.value is None
    assert thursday.fill.fill_type is None


def test_house_grid_booked_over_usable(workbook_path: Path) -> None:
    ws = load_workbook(workbook_path)[SHEET_HOUSE_NIGHTS]
    assert [ws.cell(row=3, column=c).value for c in (1, 2, 3)] == [
        "H1",
        "Testhus avlastningsbolig",
        2,
    ]
    h1, h2, total = 3, 4, 5

    def value(row: int, day: int) -> object:
        return ws.cell(row=row, column=_col(FIRST_HOUSE_COL, _night(day))).value

    # H1: 2 places; one closed on Sunday. H2: 3 places, 1 held for acute respite.
    assert value(h1, 8) == "2/2"
    assert value(h1, 4) == "0/2"
    assert value(h1, 10) == "0/1"
    assert value(h2, 6) == "1/2"
    assert value(h2, 10) == "1/2"
    assert ws.cell(row=total, column=1).value == "Sum"
    assert value(total, 8) == "2/4"
    # Full is warmer than free, and all free nights look the same.
    full = _rgb(ws, h1, _col(FIRST_HOUSE_COL, _night(8)))
    free = _rgb(ws, h1, _col(FIRST_HOUSE_COL, _night(4)))
    assert full != free
    assert _rgb(ws, h2, _col(FIRST_HOUSE_COL, _night(4))) == free


def test_house_grid_marks_over_capacity(tmp_path: Path, inp: RoundInput) -> None:
    over = [Booking(c, "H1", _night(10)) for c in ("B0001", "B0002")]  # H1 has 1 place Sunday
    path = tmp_path / "over.xlsx"
    write_calendar_workbook(inp, over, path, holidays={})
    ws = load_workbook(path)[SHEET_HOUSE_NIGHTS]
    cell = ws.cell(row=3, column=_col(FIRST_HOUSE_COL, _night(10)))
    assert cell.value == "2/1"
    assert cell.font.bold


def test_legend_sheet(workbook_path: Path) -> None:
    ws = load_workbook(workbook_path)[SHEET_HOUSES]
    assert [c.value for c in ws[1]][: len(LEGEND_HEADERS)] == list(LEGEND_HEADERS)
    row = {h: c.value for h, c in zip(LEGEND_HEADERS, ws[2], strict=False)}
    assert row["house_id"] == "H1"
    assert row["kind"] == "avlastningsbolig"
    assert row["categories"] == "2;3;(4)"
    assert row["places"] == 2
    assert row["nights_allocated"] == 4
    # floor(2 × 350 × 7 / 365) = floor(13.42) = 13
    assert row["budget_nights"] == 13
    assert row["usable_place_nights"] == 13  # 2 × 7 − 1 closed
    swatch = LEGEND_HEADERS.index("colour") + 1
    grid = load_workbook(workbook_path)[SHEET_CHILD_NIGHTS]
    assert _rgb(ws, 2, swatch) == _rgb(grid, 3, _col(FIRST_CHILD_COL, _night(8)))
    assert _rgb(ws, 3, swatch) == HOUSE_PALETTE[1]


def test_stays_sheet(workbook_path: Path) -> None:
    ws = load_workbook(workbook_path)[SHEET_STAYS]
    assert [c.value for c in ws[1]] == list(STAY_HEADERS)
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    as_dates = [[v.date() if isinstance(v, dt.datetime) else v for v in r] for r in rows]
    assert as_dates == [
        ["B0001", "H1", _night(8), _night(9), _night(10), 2],
        ["B0001", "H2", _night(10), _night(10), _night(11), 1],
        ["B0002", "H1", _night(8), _night(9), _night(10), 2],
        ["B0003", "H2", _night(6), _night(6), _night(7), 1],
    ]


def test_unknown_ids_are_shown_not_dropped(tmp_path: Path, inp: RoundInput) -> None:
    path = tmp_path / "unknown.xlsx"
    write_calendar_workbook(inp, [Booking("B0099", "HX", _night(5))], path, holidays={})
    wb = load_workbook(path)
    grid = wb[SHEET_CHILD_NIGHTS]
    assert grid.cell(row=6, column=1).value == "B0099"
    assert grid.cell(row=6, column=_col(FIRST_CHILD_COL, _night(5))).value == "HX"
    assert wb[SHEET_HOUSES].cell(row=4, column=1).value == "HX"


def test_duplicate_rows_count_once(
    tmp_path: Path, inp: RoundInput, bookings: list[Booking]
) -> None:
    path = tmp_path / "dup.xlsx"
    write_calendar_workbook(inp, bookings + bookings[:2], path, holidays={})
    wb = load_workbook(path)
    assert wb[SHEET_CHILD_NIGHTS].cell(row=3, column=5).value == 3  # B0001 allocated
    assert wb[SHEET_STAYS].max_row == 1 + 4  # header + the same four stays
    assert (
        wb[SHEET_HOUSE_NIGHTS].cell(row=3, column=_col(FIRST_HOUSE_COL, _night(8))).value == "2/2"
    )
