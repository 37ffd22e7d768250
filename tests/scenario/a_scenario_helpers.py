"""Helpers of the scenario tests: tiny base rounds, scenario files next to them, the CLI.

Every round here is made with the shared factories (pseudonyms B0001, ...; no names or IDs):
one week of nights, one to three houses, a handful of children.
"""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ holds the shared factories (tests/model/conftest.py does the same).
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import MONDAY, child, closure, house, round_input
from typer.testing import CliRunner, Result

from allocator.check import check_plan
from allocator.io.write_input import write_round
from models.outputs import Booking
from models.round_input import RoundInput

REPO = Path(__file__).resolve().parents[2]
BERGEN = REPO / "data" / "bergen"
SCENARIOS = REPO / "scenarios"
ENV = {"COLUMNS": "400"}  # wide console: rich does not wrap a message


def tiny_round() -> RoundInput:
    """Two houses (categories 4 and 2/3), three children, 7 nights, one acute place.

    h4 has 2 places (reserve 1 → 1 usable a night), h23 1 place (closed the first night) and
    takes category 4 conditionally. Grants: B0001 (cat 4) 5, B0002 (cat 4) 3, B0003 (cat 3) 4.
    A barnebolig with one place and one resident (B0004, level 6, 7 nights).
    """
    return round_input(
        [
            house("h4", places=2, categories="4", price_per_night=7000),
            house("h23", places=1, categories="2;3", conditional_categories="4"),
            house("bb", places=1, categories="5", kind="barnebolig", price_per_night=9000),
        ],
        [
            child("B0001", 5, category="4", level=2, home_house="h4"),
            child("B0002", 3, category="4", level=1),
            child("B0003", 4, category="3", level=2, home_house="h23"),
            child("B0004", 7, category="5", level=6, home_house="bb"),
        ],
        acute_reserve={"h4": 1},
        closures=[closure("h23", MONDAY, MONDAY)],
    )


def make_base(tmp_path: Path) -> Path:
    """The tiny round as a contract-v1 folder ``tmp_path/base``."""
    folder = tmp_path / "base"
    write_round(tiny_round(), folder)
    return folder


def write_scenario(folder: Path, text: str, name: str = "what-if") -> Path:
    """Write ``text`` as ``folder/<name>.toml`` (its base is ``base`` beside it unless set)."""
    if "base =" not in text:
        text = 'base = "base"\n' + text
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str | Path) -> Result:
    from allocator.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def assert_checked(inp: RoundInput, bookings: list[Booking]) -> None:
    """Every plan a test makes must pass the independent checker."""
    violations = check_plan(inp, bookings)
    assert violations == [], violations
