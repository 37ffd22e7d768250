"""`read_bookings`: contract v1's bookings.csv, added columns ignored, the ``kind`` column read.

Issue 6: an exported version's bookings.csv has ``child_id, house_id, night, kind`` (``planned``,
``acute``, ``offered``); ``allocator check`` must read it, and a bad kind is a clear problem.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from allocator.io.bookings import read_bookings
from allocator.io.errors import InputError
from models.outputs import Booking


def plan(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "bookings.csv").write_text(text, encoding="utf-8")
    return folder


def test_contract_v1_bookings_are_planned(tmp_path: Path) -> None:
    folder = plan(tmp_path, "child_id,house_id,night\nB0001,h1,2027-01-08\n")
    [b] = read_bookings(folder)
    assert b == Booking("B0001", "h1", dt.date(2027, 1, 8))
    assert b.kind == "planned"


def test_kind_column_is_read_and_other_added_columns_ignored(tmp_path: Path) -> None:
    folder = plan(
        tmp_path,
        "night,kind,child_id,note,house_id\n"
        "2027-01-08,acute,B0001,x,h2\n"
        "2027-01-09,Offered,B0002,,h1\n"
        "2027-01-10,,B0003,y,h1\n",
    )
    assert [(b.child_id, b.house_id, b.night.day, b.kind) for b in read_bookings(folder)] == [
        ("B0001", "h2", 8, "acute"),
        ("B0002", "h1", 9, "offered"),
        ("B0003", "h1", 10, "planned"),
    ]


def test_an_unknown_kind_is_a_clear_problem(tmp_path: Path) -> None:
    folder = plan(
        tmp_path,
        "child_id,house_id,night,kind\n"
        "B0001,h1,2027-01-08,urgent\n"
        "B0002,h1,2027-01-09,planned\n"
        "B0003,h1,not-a-date,planned\n",
    )
    with pytest.raises(InputError) as caught:
        read_bookings(folder)
    assert [str(p) for p in caught.value.problems] == [
        "bookings.csv, row 2, column kind: not a booking kind: 'urgent'"
        " (one of planned, acute, offered)",
        "bookings.csv, row 4, column night: not a date: 'not-a-date'",
    ]


def test_the_bookings_file_itself_may_be_named(tmp_path: Path) -> None:
    folder = plan(tmp_path, "child_id,house_id,night\nB0001,h1,2027-01-08\n")
    assert read_bookings(folder / "bookings.csv") == read_bookings(folder)
