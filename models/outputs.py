"""Output rows of a round (contract v1): bookings.csv, stays.csv; figures live in summary.json."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Booking:
    """One bed-night: `child_id` sleeps in `house_id` on the night of `night` (evening date)."""

    child_id: str
    house_id: str
    night: dt.date
    kind: str = field(default="planned", compare=False)
    """``planned`` (a round's night), ``acute`` (an acute stay, counted apart from the grant)
    or ``offered`` (a free night given by the priority committee). Not part of equality."""


BOOKING_KINDS: tuple[str, ...] = ("planned", "acute", "offered")


@dataclass(frozen=True, order=True)
class Stay:
    """Consecutive nights of one child in one house; check-in `first_night`, check-out next day."""

    child_id: str
    house_id: str
    first_night: dt.date
    last_night: dt.date

    @property
    def nights(self) -> int:
        return (self.last_night - self.first_night).days + 1

    @property
    def check_out(self) -> dt.date:
        return self.last_night + dt.timedelta(days=1)


def stays_from_bookings(bookings: list[Booking] | tuple[Booking, ...]) -> list[Stay]:
    """Group bookings into stays; a new stay starts where the night or the house changes."""
    stays: list[Stay] = []
    ordered = sorted(bookings, key=lambda b: (b.child_id, b.night))
    current: Stay | None = None
    for b in ordered:
        if (
            current is not None
            and current.child_id == b.child_id
            and current.house_id == b.house_id
            and b.night == current.last_night + dt.timedelta(days=1)
        ):
            current = Stay(current.child_id, current.house_id, current.first_night, b.night)
            continue
        if current is not None:
            stays.append(current)
        current = Stay(b.child_id, b.house_id, b.night, b.night)
    if current is not None:
        stays.append(current)
    return stays
