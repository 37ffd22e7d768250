"""Pinned nights in the store (Alembic revision 0002), on SQLite and PostgreSQL.

A pin (``allocator pin``) is a change like any other: a new version with an audit line. Later
changes keep a pin on every night still booked in the same house; a store made before
revision 0002 is upgraded on open with its data intact and nothing pinned.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool
from store_helpers import night
from test_store_versions import plan_v1, publish_v1, snapshot, with_acute

from allocator.store import alembic_config, open_store
from allocator.store.diff import format_diff
from models.outputs import Booking


def _bookings_columns(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("bookings")}
    finally:
        engine.dispose()


def test_a_store_from_revision_0001_is_upgraded_with_its_data(store_url: str) -> None:
    publish_v1(store_url)
    with open_store(store_url) as store:
        store.commit_change(
            parent=1,
            bookings=with_acute(plan_v1()),
            kinds={},
            action="acute",
            who="kari",
            why="crisis",
            detail="acute B0001 in h2",
        )
    before = snapshot(store_url)
    # Back to the schema of revision 0001 (no pinned column), the data kept.
    command.downgrade(alembic_config(store_url), "0001")
    assert "pinned" not in _bookings_columns(store_url)
    # Opening runs 0002: every row is still there, nothing pinned.
    after = snapshot(store_url)
    assert "pinned" in _bookings_columns(store_url)
    with open_store(store_url) as store:
        assert [v.version for v in store.history()] == [1, 2]
        assert [a.detail for a in store.history()[1].audit] == ["acute B0001 in h2"]
        assert store.bookings(2) == sorted(with_acute(plan_v1()))
        assert store.booking_kinds(2) == {("B0001", night(o)): "acute" for o in (0, 1, 2)}
        assert store.pinned_nights(1) == store.pinned_nights(2) == set()
    assert after == before


def test_pins_are_versions_and_follow_the_nights(store_url: str) -> None:
    publish_v1(store_url)
    pinned = {("B0002", night(o)) for o in (0, 1, 2)}
    with open_store(store_url) as store:
        version = store.commit_change(
            parent=1,
            bookings=plan_v1(),
            kinds={},
            action="pin",
            who="kari",
            why="agreed with the family",
            detail="pin B0002",
            pinned=pinned,
        )
        assert version == 2
        assert store.pinned_nights() == pinned
        assert store.pinned_nights(1) == set()
        assert store.bookings(2) == store.bookings(1)
        # A later change keeps the pins still booked in the same house: B0002's Monday is
        # cancelled (its pin goes), its Tuesday moves to h2 (its pin goes too), its Wednesday
        # stays pinned.
        plan3 = [
            Booking(b.child_id, "h2", b.night)
            if (b.child_id, b.night) == ("B0002", night(1))
            else b
            for b in plan_v1()
            if (b.child_id, b.night) != ("B0002", night(0))
        ]
        store.commit_change(
            parent=2,
            bookings=plan3,
            kinds={},
            action="move",
            who="per",
            why="by hand",
            detail="",
        )
        assert store.pinned_nights() == {("B0002", night(2))}
        assert [v.kind for v in store.history()] == ["round", "pin", "move"]
        assert store.history()[1].audit[0].who == "kari"


def test_diff_names_pinned_and_released_nights(store_url: str) -> None:
    publish_v1(store_url)
    with open_store(store_url) as store:
        for parent, pinned in ((1, {("B0002", night(o)) for o in (0, 1)}), (2, set())):
            store.commit_change(
                parent=parent,
                bookings=plan_v1(),
                kinds={},
                action="pin" if pinned else "unpin",
                who="kari",
                why="agreed",
                detail="",
                pinned=pinned,
            )
        pinned_diff = store.diff(1, 2)
        released_diff = store.diff(2, 3)
        nothing = store.diff(1, 3)
    assert (pinned_diff.pinned, pinned_diff.released, pinned_diff.moved) == (2, 0, 0)
    assert format_diff(pinned_diff).splitlines() == [
        "Version 2 against version 1: 0 nights added, 0 removed, 0 moved to another house,"
        " 2 pinned, for 1 family (bed-nights 7 → 7).",
        "  B0002 pinned: 2027-01-04 – 2027-01-05",
    ]
    assert released_diff.released == 2
    assert "  B0002 released from a pin: 2027-01-04 – 2027-01-05" in format_diff(released_diff)
    assert nothing.same
