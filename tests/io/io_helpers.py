"""Helpers for the io tests: a tiny valid round written by hand, and problem lookup."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from allocator.io.errors import InputError, Problem
from allocator.io.reader import read_round

# Round 2027-01-01 .. 2027-06-30 = 181 nights. Pseudonymous ids only.
VALID: dict[str, str] = {
    "houses.csv": (
        "house_id,name,kind,owner,places,categories,conditional_categories,night_watch,"
        "nights_per_place_year,price_per_night\n"
        "H01,Sandalstunet avlastningsbolig,avlastningsbolig,kommunal,4,2;3,4,true,350,4500\n"
        "H02,Vestlund avlastningsbolig,avlastningsbolig,kommunal,10,4,,true,350,5200\n"
        "H03,Utsikten barnebolig,barnebolig,kommunal,3,5,,true,350,6000\n"
    ),
    "children.csv": (
        "child_id,birth_date,category,level,granted_nights,vedtak_from,vedtak_to,pattern,"
        "home_house\n"
        "B0001,2012-03-04,3,2,20,2027-01-01,2027-06-30,weekend,H01\n"
        "B0002,2010-05-06,4,3,40,2027-01-01,2027-06-30,week,H02\n"
        "B0003,2011-07-08,5,6,181,2027-01-01,2027-06-30,any,H03\n"
    ),
    "unavailable.csv": "child_id,from,to,reason\nB0001,2027-06-20,2027-06-30,sommerleir\n",
    "wishes.csv": "child_id,from,to,kind,weight\nB0002,2027-03-01,2027-03-07,want,5\n",
    "incompatible.csv": "child_a,child_b\nB0001,B0002\nB0002,B0001\n",
    "closures.csv": "house_id,from,to,places_closed\nH02,2027-04-01,2027-04-10,2\n",
    "calendar.csv": "from,to,kind,name\n2027-03-25,2027-03-29,public_holiday,Påske\n",
    "round.toml": (
        "start = 2027-01-01\n"
        'end = "2027-06-30"\n'
        "time_limit = 30\n"
        "seed = 7\n"
        "\n"
        "[acute_reserve]\n"
        "H02 = 1\n"
        "\n"
        "[weights]\n"
        "nights = 120\n"
    ),
}

RoundWriter = Callable[..., Path]


def write_files(
    folder: Path, files: Mapping[str, str | bytes | None], encoding: str = "utf-8"
) -> Path:
    """Write `files` (name → text, bytes, or None to leave out) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is None:
            continue
        data = content if isinstance(content, bytes) else content.encode(encoding)
        (folder / name).write_bytes(data)
    return folder


def problems_of(path: Path) -> list[Problem]:
    """The problems `read_round` raises for `path` (fails if it does not raise)."""
    with pytest.raises(InputError) as info:
        read_round(path)
    return info.value.problems


def find(
    problems: list[Problem], file: str, row: int | None, column: str | None, text: str = ""
) -> Problem:
    """The one problem at `file`, `row`, `column` whose message contains `text`."""
    hits = [
        p
        for p in problems
        if p.file == file and p.row == row and p.column == column and text in p.message
    ]
    assert len(hits) == 1, f"expected one problem at {file}/{row}/{column} ~ {text!r}: {problems}"
    return hits[0]
