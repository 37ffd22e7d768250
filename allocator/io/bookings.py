"""Read a plan's bookings.csv back (for `allocator check`), with clear errors."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from allocator.io.errors import InputError, Problem
from models.outputs import Booking

COLUMNS = ("child_id", "house_id", "night")


def read_bookings(plan_dir: Path) -> list[Booking]:
    """Read ``plan_dir/bookings.csv`` (contract v1: child_id, house_id, night)."""
    path = plan_dir / "bookings.csv"
    name = "bookings.csv"
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(name, None, None, "not a UTF-8 text file")]) from None
    rows = list(csv.DictReader(text.splitlines()))
    header = set(rows[0].keys()) if rows else set(text.splitlines()[0].split(",") if text else [])
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError([Problem(name, 1, col, "missing column") for col in missing])
    problems: list[Problem] = []
    bookings: list[Booking] = []
    for i, row in enumerate(rows, start=2):
        try:
            night = dt.date.fromisoformat((row["night"] or "").strip())
        except ValueError:
            problems.append(Problem(name, i, "night", f"not a date: {row['night']!r}"))
            continue
        bookings.append(Booking(row["child_id"].strip(), row["house_id"].strip(), night))
    if problems:
        raise InputError(problems)
    return bookings
