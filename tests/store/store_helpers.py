"""Tiny pseudonymous rounds (B0001, …) for the store tests, made with ``tests/factories.py``.

One house ``h1`` with one place; B0001 is granted 2 nights, B0002 3, B0003 2; rounds are one
week from a Monday (2027-01-04 by default, so offset 4 is a Friday night).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from factories import MONDAY, child, house, round_input

from models.outputs import Booking
from models.round_input import RoundInput

GRANTS = {"B0001": 2, "B0002": 3, "B0003": 2}


def night(offset: int, start: dt.date = MONDAY) -> dt.date:
    """The night `offset` days after `start` (MONDAY = 2027-01-04; offset 4 is a Friday)."""
    return start + dt.timedelta(days=offset)


def week_round(
    start: dt.date = MONDAY, children: tuple[str, ...] = ("B0001", "B0002")
) -> RoundInput:
    """A one-week round from `start` with one house h1 (one place); grants 2 and 3 nights."""
    return round_input(
        [house("h1", places=1)], [child(cid, GRANTS[cid]) for cid in children], start=start
    )


def book(child_id: str, *offsets: int, start: dt.date = MONDAY) -> list[Booking]:
    """Bookings of `child_id` in h1 on the nights `offsets` days after `start`."""
    return [Booking(child_id, "h1", night(o, start)) for o in offsets]


def first_round() -> tuple[RoundInput, list[Booking]]:
    """Week of 2027-01-04: B0001 gets the weekend (Friday, Saturday), B0002 three weekdays.

    Weekend shares (both pattern ``any``; 2 of the week's 7 nights are weekend nights, so the
    calendar shares are nights × 2/7 = 4/7 and 6/7, scaled to the 2 weekend nights given):
    B0001 0.8, B0002 1.2, so the balances are +1.2 and -1.2.
    """
    return week_round(), book("B0001", 4, 5) + book("B0002", 0, 1, 2)


def second_round() -> tuple[RoundInput, list[Booking]]:
    """Week of 2027-01-11: now B0002 gets the weekend, B0001 two weekdays.

    Owed this round (share minus carried balance; both got 2 nights, so each share is 1):
    B0001 1 - 1.2 = -0.2, B0002 1 + 1.2 = 2.2; balances B0001 +0.2, B0002 -0.2.
    """
    start = MONDAY + dt.timedelta(days=7)
    return week_round(start), book("B0002", 4, 5, start=start) + book("B0001", 0, 1, start=start)
