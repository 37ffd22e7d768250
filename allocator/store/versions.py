"""The rows a change to a published plan writes and reads (issue 6, "A durable plan store").

"Every change to a published plan becomes a new version, with an audit line (who, when, why);
any version can be exported and compared." `allocator.store.Store.commit_change` checks a
change and holds the store's write lock; the functions here do the reading and writing inside
its transaction (and inside `Store`'s read snapshots), on a SQLAlchemy `Session`:

* `plan_rows` — the bookings of a version, each with its kind;
* `insert_bookings` — a new version's bookings with their kinds and pins;
* `pinned_rows` — the pinned nights of a version;
* `child_rows` — the parent's round children copied (``allocated`` recounted) plus new ones;
* `copy_balances` — the parent's family balances, unchanged.

Nothing here commits: `Store` does, or rolls everything back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from allocator.store.schema import BookingRow, KindBalance, RoundChild
from models.outputs import Booking

__all__ = [
    "PLANNED",
    "ChildRow",
    "allocated_nights",
    "booking_kind",
    "child_rows",
    "copy_balances",
    "insert_bookings",
    "pinned_rows",
    "plan_rows",
]

BOOKINGS_TABLE = cast(Table, BookingRow.__table__)
"""The bookings table (for Core inserts)."""

PLANNED = "planned"
"""The kind of a round's own nights (the first of `models.outputs.BOOKING_KINDS`)."""


class ChildRow(Protocol):
    """What `child_rows` needs of a new child (`allocator.store.RoundChildInfo` has it)."""

    @property
    def child_id(self) -> str: ...
    @property
    def granted(self) -> int: ...
    @property
    def pattern(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def level(self) -> int: ...


def booking_kind(b: Booking, kinds: Mapping[tuple[str, dt.date], str]) -> str:
    """The kind a booking is stored with: ``kinds[(child_id, night)]``, else its own kind
    (``planned`` unless the caller set another)."""
    return kinds.get((b.child_id, b.night), b.kind)


def plan_rows(s: Session, version: int) -> list[Booking]:
    """The bookings of `version`, sorted, each with its stored kind."""
    rows = s.execute(
        select(BookingRow.child_id, BookingRow.house_id, BookingRow.night, BookingRow.kind).where(
            BookingRow.version == version
        )
    ).all()
    return sorted(Booking(c, h, n, k) for c, h, n, k in rows)


def pinned_rows(s: Session, version: int) -> set[tuple[str, dt.date]]:
    """``(child_id, night)`` of every pinned night of `version`."""
    rows = s.execute(
        select(BookingRow.child_id, BookingRow.night).where(
            BookingRow.version == version, BookingRow.pinned.is_(True)
        )
    ).all()
    return {(c, n) for c, n in rows}


def insert_bookings(
    s: Session,
    version: int,
    bookings: Sequence[Booking],
    kinds: Mapping[tuple[str, dt.date], str],
    pinned: Collection[tuple[str, dt.date]] = frozenset(),
) -> None:
    """Write `bookings` as the plan of `version`, each with `booking_kind`; the nights named
    in `pinned` (``(child_id, night)``) are marked pinned."""
    if not bookings:
        return
    # Core executemany on the table: about twice as fast as the ORM's bulk insert for a
    # half-year plan (11,000 rows), and every change writes the whole plan.
    s.connection().execute(
        insert(BOOKINGS_TABLE),
        [
            {
                "version": version,
                "child_id": b.child_id,
                "house_id": b.house_id,
                "night": b.night,
                "kind": booking_kind(b, kinds),
                "pinned": (b.child_id, b.night) in pinned,
            }
            for b in sorted(bookings)
        ],
    )


def allocated_nights(
    bookings: Sequence[Booking], kinds: Mapping[tuple[str, dt.date], str]
) -> Counter[str]:
    """Nights per child that count against its grant: every kind but ``acute`` (an acute stay
    is counted apart from the grant, as `allocator.check.rules.check_granted` does)."""
    return Counter(b.child_id for b in bookings if booking_kind(b, kinds) != "acute")


def child_rows(
    s: Session,
    parent: int,
    version: int,
    allocated: Mapping[str, int],
    new_children: Sequence[ChildRow],
) -> list[dict[str, Any]]:
    """The round children of `version`: the parent's, with ``allocated`` recounted from the new
    plan, then `new_children` (children not in the round, such as an acute child granted 0)."""
    rows: list[dict[str, Any]] = [
        {
            "version": version,
            "child_id": r.child_id,
            "granted": r.granted,
            "allocated": int(allocated.get(r.child_id, 0)),
            "pattern": r.pattern,
            "category": r.category,
            "level": r.level,
        }
        for r in s.scalars(
            select(RoundChild).where(RoundChild.version == parent).order_by(RoundChild.child_id)
        )
    ]
    rows.extend(
        {
            "version": version,
            "child_id": c.child_id,
            "granted": int(c.granted),
            "allocated": int(allocated.get(c.child_id, 0)),
            "pattern": str(c.pattern),
            "category": str(c.category),
            "level": int(c.level),
        }
        for c in new_children
    )
    return rows


def copy_balances(s: Session, parent: int, version: int) -> int:
    """Copy the parent's family balances to `version` unchanged; return how many rows.

    A change within a round does not recompute the round's fair shares (that needs the round's
    input); the next round starts from these balances as it would from the parent's.
    """
    rows = [
        {
            "version": version,
            "child_id": r.child_id,
            "kind": r.kind,
            "got": r.got,
            "share": r.share,
            "balance": r.balance,
        }
        for r in s.scalars(select(KindBalance).where(KindBalance.version == parent))
    ]
    if rows:
        s.execute(insert(KindBalance), rows)
    return len(rows)
