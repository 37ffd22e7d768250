"""Read a plan's bookings.csv back (for `allocator check`), with clear errors.

Contract v1: ``child_id, house_id, night``, one row per bed-night; columns may be added and are
ignored, except ``kind`` (issue 6: an exported version marks each night ``planned``, ``acute``
or ``offered``), which the checker needs: an acute night may use the acute reserve and does not
count against the grant. A missing or empty ``kind`` is ``planned``.

A ``child_id`` that looks like a national ID number is refused (`allocator.io.national_id`),
the problem naming row and column but never the value.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from pathlib import Path

from allocator.io.errors import InputError, Problem
from allocator.io.national_id import NATIONAL_ID_MESSAGE, hide_national_ids, looks_like_national_id
from models.outputs import BOOKING_KINDS, Booking

COLUMNS = ("child_id", "house_id", "night")
KIND_COLUMN = "kind"


def read_bookings(plan_dir: Path) -> list[Booking]:
    """Read ``plan_dir/bookings.csv`` (contract v1: child_id, house_id, night; optional kind).

    Parameters
    ----------
    plan_dir
        A plan folder.

    Returns
    -------
    list of Booking
        In file order, each with its ``kind`` (``planned`` when the column is absent or empty).

    Raises
    ------
    InputError
        The file is missing or not UTF-8, a column is missing, a child id looks like a national
        ID number, a night is not a date or a kind is not one of ``planned``, ``acute``,
        ``offered`` (every row's problem at once).
    """
    # A coordinator may name the file itself rather than its folder.
    path = plan_dir if plan_dir.name == "bookings.csv" else plan_dir / "bookings.csv"
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
        child_id = (row["child_id"] or "").strip()
        national_id = looks_like_national_id(child_id)
        if national_id:
            problems.append(Problem(name, i, "child_id", NATIONAL_ID_MESSAGE))
        try:
            night = dt.date.fromisoformat((row["night"] or "").strip())
        except ValueError:
            problems.append(Problem(name, i, "night", f"not a date: {row['night']!r}"))
            continue
        kind = (row.get(KIND_COLUMN) or "").strip().lower() or BOOKING_KINDS[0]
        if kind not in BOOKING_KINDS:
            problems.append(
                Problem(
                    name,
                    i,
                    KIND_COLUMN,
                    f"not a booking kind: {row[KIND_COLUMN]!r} (one of {', '.join(BOOKING_KINDS)})",
                )
            )
            continue
        if not national_id:
            bookings.append(Booking(child_id, row["house_id"].strip(), night, kind))
    if problems:
        raise InputError([replace(p, message=hide_national_ids(p.message)) for p in problems])
    return bookings
