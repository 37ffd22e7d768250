"""Tests of the house rosters (`allocator.report.roster`).

A hand-made plan over the 10 nights Monday 4 – Wednesday 13 January 2027 (ISO weeks 1 and 2):

* H1 "Vestlund", 3 places, 1 held for acute respite → 2 usable every night.
* H2 "Sverresborg", 2 places, 1 closed on the nights 6–7 January → 1 usable then, else 2.
* H3 has no places: no roster.

Plan: B0001 in H1 nights 4–6 (out 7th); B0002 in H1 nights 6–8 (out 9th), then H2 nights
9–10 (in 9th, out 11th); B0003 in H2 nights 8–13 (out 14th, the morning after the round).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from allocator.report.roster import (
    CSV_HEADERS,
    ROSTER_WORKBOOK,
    SHEET_HEADERS,
    RosterDay,
    house_roster,
    write_house_rosters,
)
from models.config import RoundConfig
from models.inputs import Child, Closure, House
from models.outputs import Booking
from models.round_input import RoundInput

START = dt.date(2027, 1, 4)  # Monday, ISO week 1
END = dt.date(2027, 1, 13)  # Wednesday, ISO week 2


def _d(day: int) -> dt.date:
    return dt.date(2027, 1, day)


def _house(house_id: str, name: str, places: int) -> House:
    return House(
        house_id=house_id,
        name=name,
        kind="avlastningsbolig",
        owner="kommunal",
        places=places,
        categories="2;3",
        night_watch=True,
    )


def _child(child_id: str) -> Child:
    return Child(
        child_id=child_id,
        birth_date=dt.date(2012, 3, 1),
        category="2",
        level=2,
        granted_nights=6,
        vedtak_from=dt.date(2026, 7, 1),
        vedtak_to=dt.date(2027, 6, 30),
    )


def _book(child_id: str, house_id: str, first: int, last: int) -> list[Booking]:
    return [Booking(child_id, house_id, _d(day)) for day in range(first, last + 1)]


@pytest.fixture()
def inp() -> RoundInput:
    closure = Closure.model_validate(
        {"house_id": "H2", "from": _d(6), "to": _d(7), "places_closed": 1}
    )
    return RoundInput(
        config=RoundConfig(start=START, end=END, acute_reserve={"H1": 1}),
        houses=(
            _house("H1", "Vestlund avlastningsbolig", 3),
            _house("H2", "Sverresborg avlastningsbolig", 2),
            _house("H3", "Nytt hus", 0),
        ),
        children=(_child("B0001"), _child("B0002"), _child("B0003")),
        closures=(closure,),
    )


@pytest.fixture()
def bookings() -> list[Booking]:
    return [
        *_book("B0001", "H1", 4, 6),
        *_book("B0002", "H1", 6, 8),
        *_book("B0002", "H2", 9, 10),
        *_book("B0003", "H2", 8, 13),
    ]


def _table(roster: list[RosterDay]) -> dict[int, tuple[str, str, str, int, int]]:
    """Day of month → (arrivals, departures, staying, usable, free), ids ``;``-joined."""
    return {
        day.date.day: (
            ";".join(day.arrivals),
            ";".join(day.departures),
            ";".join(day.staying),
            day.usable,
            day.free,
        )
        for day in roster
    }


def test_roster_of_h1_with_acute_reserve(inp: RoundInput, bookings: list[Booking]) -> None:
    roster = house_roster(inp, bookings, "H1", holidays={})
    assert [day.date for day in roster] == [_d(k) for k in range(4, 14)]  # nobody leaves on 14th
    assert all(day.in_round and day.reserve == 1 and day.closed == 0 for day in roster)
    assert _table(roster) == {
        4: ("B0001", "", "B0001", 2, 1),
        5: ("", "", "B0001", 2, 1),
        6: ("B0002", "", "B0001;B0002", 2, 0),
        7: ("", "B0001", "B0002", 2, 1),
        8: ("", "", "B0002", 2, 1),
        9: ("", "B0002", "", 2, 2),
        10: ("", "", "", 2, 2),
        11: ("", "", "", 2, 2),
        12: ("", "", "", 2, 2),
        13: ("", "", "", 2, 2),
    }


def test_roster_of_h2_with_closure_and_departure_after_round(
    inp: RoundInput, bookings: list[Booking]
) -> None:
    roster = house_roster(inp, bookings, "H2", holidays={})
    assert _table(roster) == {
        4: ("", "", "", 2, 2),
        5: ("", "", "", 2, 2),
        6: ("", "", "", 1, 1),  # one place closed
        7: ("", "", "", 1, 1),
        8: ("B0003", "", "B0003", 2, 1),
        9: ("B0002", "", "B0002;B0003", 2, 0),  # B0002 moved from H1 this day
        10: ("", "", "B0002;B0003", 2, 0),
        11: ("", "B0002", "B0003", 2, 1),
        12: ("", "", "B0003", 2, 1),
        13: ("", "", "B0003", 2, 1),
        14: ("", "B0003", "", 0, 0),  # the morning after the round's last night
    }
    assert [day.closed for day in roster[:5]] == [0, 0, 1, 1, 0]
    assert not roster[-1].in_round
    assert all(day.in_round for day in roster[:-1])


def test_counts_weekdays_and_weeks(inp: RoundInput, bookings: list[Booking]) -> None:
    roster = house_roster(inp, bookings, "H2", holidays={})
    assert [day.weekday for day in roster[:7]] == [
        "mandag",
        "tirsdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lørdag",
        "søndag",
    ]
    assert [day.week for day in roster] == [1] * 7 + [2] * 4
    assert [day.occupied for day in roster] == [0, 0, 0, 0, 1, 2, 2, 1, 1, 1, 0]
    assert sum(len(day.arrivals) for day in roster) == 2
    assert sum(len(day.departures) for day in roster) == 2
    assert [day.is_weekend_night for day in roster[:7]] == [False] * 4 + [True, True, False]


def test_every_booked_night_is_counted_once(inp: RoundInput, bookings: list[Booking]) -> None:
    doubled = bookings + bookings[:2]  # a duplicated row is one bed-night
    for house_id in ("H1", "H2"):
        roster = house_roster(inp, doubled, house_id, holidays={})
        staying = sum(day.occupied for day in roster)
        assert staying == sum(1 for b in bookings if b.house_id == house_id)


def test_overbooked_house_has_negative_free(inp: RoundInput) -> None:
    plan = [*_book("B0001", "H2", 6, 6), *_book("B0002", "H2", 6, 6)]
    day = house_roster(inp, plan, "H2", holidays={})[2]
    assert (day.date, day.usable, day.occupied, day.free) == (_d(6), 1, 2, -1)


def test_holiday_names_and_unknown_house(inp: RoundInput) -> None:
    roster = house_roster(inp, [], "H1", holidays={_d(6): "Helligtrekongersdag"})
    assert [day.holiday for day in roster[:4]] == ["", "", "Helligtrekongersdag", ""]
    with pytest.raises(KeyError):
        house_roster(inp, [], "H9")


def test_csv_per_house_with_places(
    inp: RoundInput, bookings: list[Booking], tmp_path: Path
) -> None:
    written = write_house_rosters(inp, bookings, tmp_path, holidays={})
    assert [p.name for p in written] == ["H1.csv", "H2.csv", ROSTER_WORKBOOK]
    assert not (tmp_path / "H3.csv").exists()
    with (tmp_path / "H2.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_HEADERS
    assert len(rows) == 11
    by_date = {row["date"]: row for row in rows}
    assert by_date["2027-01-09"] == {
        "week": "1",
        "date": "2027-01-09",
        "weekday": "lørdag",
        "arrivals": "B0002",
        "departures": "",
        "staying": "B0002;B0003",
        "occupied": "2",
        "usable": "2",
        "free": "0",
    }
    assert by_date["2027-01-06"]["usable"] == "1"
    assert by_date["2027-01-14"]["departures"] == "B0003"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def _find_row(ws: Worksheet, date: dt.date) -> int:
    for row in range(1, ws.max_row + 1):
        value = ws.cell(row=row, column=2).value
        if isinstance(value, dt.datetime) and value.date() == date:
            return row
    raise AssertionError(f"{date} not in sheet {ws.title}")


def test_workbook_week_blocks(inp: RoundInput, bookings: list[Booking], tmp_path: Path) -> None:
    write_house_rosters(inp, bookings, tmp_path, holidays={_d(6): "Helligtrekongersdag"})
    wb = load_workbook(tmp_path / ROSTER_WORKBOOK)
    assert wb.sheetnames == ["H1", "H2", "Forklaring"]
    ws = wb["H2"]
    assert ws.freeze_panes == "A3"
    assert tuple(ws.cell(row=2, column=c).value for c in range(1, 8)) == SHEET_HEADERS
    assert "Sverresborg avlastningsbolig" in str(ws["A1"].value)

    week_rows = [r for r in range(3, ws.max_row + 1) if str(ws.cell(r, 1).value).startswith("Uke")]
    assert [str(ws.cell(r, 1).value).split(" ·")[0] for r in week_rows] == ["Uke 1", "Uke 2"]
    # Each block: a heading row, then Monday–Sunday (week 2 includes days after the round).
    for heading in week_rows:
        weekdays = [ws.cell(heading + k, 1).value for k in range(1, 8)]
        assert weekdays == ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"]
    assert ws.max_row == 2 + 2 * 8

    def cells(day: int) -> tuple[object, ...]:
        row = _find_row(ws, _d(day))
        return tuple(ws.cell(row, c).value for c in range(3, 8))

    assert cells(9) == ("B0002", None, "B0002, B0003", 0, None)
    assert cells(6) == (None, None, None, 1, "Helligtrekongersdag; 1 plass stengt")
    assert cells(11) == (None, "B0002", "B0003", 1, None)
    assert cells(14) == (None, "B0003", None, None, "etter perioden (bare utsjekk)")
    assert cells(17) == (None, None, None, None, None)  # Sunday after the round: empty row

    def fill(day: int) -> str:
        return str(ws.cell(_find_row(ws, _d(day)), 3).fill.fgColor.rgb)[-6:]

    assert fill(8) == fill(9) == "BDD7EE"  # Friday and Saturday nights shaded
    assert fill(10) != "BDD7EE" and fill(7) != "BDD7EE"
    assert fill(6) == "F8CBAD"  # holiday wins

    h1 = wb["H1"]
    assert h1.cell(_find_row(h1, _d(6)), 6).value == 0
    assert h1.cell(_find_row(h1, _d(4)), 6).value == 1


def test_rewrite_replaces_files(inp: RoundInput, bookings: list[Booking], tmp_path: Path) -> None:
    write_house_rosters(inp, bookings, tmp_path, holidays={})
    write_house_rosters(inp, [], tmp_path, holidays={})
    text = (tmp_path / "H1.csv").read_text(encoding="utf-8")
    assert "B000" not in text
    assert len(text.splitlines()) == 1 + 10
