"""Publishing rounds: read back what was written, balances that accumulate across rounds, a
family that got fewer weekend nights first next round, replacement and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from factories import child, house, round_input
from store_helpers import book, first_round, second_round, week_round

from allocator.demand import DEMAND_KINDS, fair_shares
from allocator.store import StoreError, families_owed_first, open_store
from models.outputs import Booking


def test_publish_round_trip(store_url: str) -> None:
    inp, bookings = first_round()
    with open_store(store_url) as store:
        assert store.latest_version() is None
        assert store.history() == []
        assert store.balances() == {}
        version = store.publish(inp, bookings, who="tester", why="spring round")
        assert version == 1
    with open_store(store_url) as store:  # read back through a fresh connection
        assert store.latest_version() == 1
        assert store.bookings(1) == sorted(bookings)
        assert store.bookings() == sorted(bookings)
        children = {c.child_id: c for c in store.round_children(1)}
        assert children["B0001"].granted == 2 and children["B0001"].allocated == 2
        assert children["B0002"].granted == 3 and children["B0002"].allocated == 3
        assert (children["B0002"].pattern, children["B0002"].category) == ("any", "2")
        assert children["B0002"].level == 2

        rows = store.family_balances(1)
        assert len(rows) == 2 * len(DEMAND_KINDS)  # one row per family and kind
        weekend = {r.child_id: r for r in rows if r.kind == "weekend"}
        assert weekend["B0001"].got == 2
        assert weekend["B0001"].share == pytest.approx(0.8)
        assert weekend["B0001"].balance == pytest.approx(1.2)
        assert weekend["B0002"].got == 0
        assert weekend["B0002"].share == pytest.approx(1.2)
        assert weekend["B0002"].balance == pytest.approx(-1.2)
        assert all(r.balance == 0 for r in rows if r.kind != "weekend")

        balances = store.balances()
        assert balances["B0001"]["weekend"] == pytest.approx(1.2)
        assert balances["B0002"]["weekend"] == pytest.approx(-1.2)
        assert set(balances["B0001"]) == set(DEMAND_KINDS)

        [info] = store.history()
        assert (info.version, info.who, info.why) == (1, "tester", "spring round")
        assert info.kind == "round"
        assert (info.round_start, info.round_end) == (dt.date(2027, 1, 4), dt.date(2027, 1, 10))
        assert (info.n_bookings, info.n_families) == (5, 2)
        assert info.created_at.tzinfo is not None
        assert abs(info.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
        assert info.input_hash is not None and len(info.input_hash) == 64
        assert info.parent_version is None and info.replaced_by is None
        [line] = info.audit
        assert (line.action, line.who, line.version) == ("publish", "tester", 1)
        assert "5 bed-nights" in line.detail


def test_balances_accumulate_and_the_family_owed_comes_first(store_url: str) -> None:
    with open_store(store_url) as store:
        inp1, bookings1 = first_round()
        store.publish(inp1, bookings1, who="tester", why="round 1")
        # B0002 got no weekend night: negative balance, first in line for the next round.
        assert store.balances()["B0002"]["weekend"] < 0
        assert families_owed_first(store.balances()) == ["B0002", "B0001"]

        # The next round reads the balances: B0002 is owed more weekend nights than its
        # proportional share (one of the two weekend nights given), B0001 less.
        inp2, bookings2 = second_round()
        owed = fair_shares(inp2, bookings2, store.balances())
        assert owed["B0002"]["weekend"].share == pytest.approx(2.2)
        assert owed["B0001"]["weekend"].share == pytest.approx(-0.2)

        assert store.publish(inp2, bookings2, who="tester", why="round 2") == 2
        balances = store.balances()
        # Over both rounds B0001 got 2 weekend nights of 4 nights, B0002 2 of 5: B0002 still
        # got a little less than its share, so it still comes first.
        assert balances["B0001"]["weekend"] == pytest.approx(0.2)
        assert balances["B0002"]["weekend"] == pytest.approx(-0.2)
        assert families_owed_first(balances) == ["B0002", "B0001"]
        weekend2 = {r.child_id: r for r in store.family_balances(2) if r.kind == "weekend"}
        assert weekend2["B0002"].got == 2
        assert weekend2["B0002"].share == pytest.approx(2.2)
        # Version 1 is kept as it was.
        weekend1 = {r.child_id: r for r in store.family_balances(1) if r.kind == "weekend"}
        assert weekend1["B0002"].balance == pytest.approx(-1.2)
        assert [v.version for v in store.history()] == [1, 2]


def test_a_family_missing_from_a_round_keeps_its_balance(store_url: str) -> None:
    with open_store(store_url) as store:
        inp1, bookings1 = first_round()
        store.publish(inp1, bookings1, who="tester", why="round 1")
        start = dt.date(2027, 1, 11)
        inp2 = week_round(start, children=("B0001", "B0003"))
        bookings2 = book("B0003", 4, 5, start=start) + book("B0001", 0, 1, start=start)
        store.publish(inp2, bookings2, who="tester", why="round 2")
        balances = store.balances()
        assert balances["B0002"]["weekend"] == pytest.approx(-1.2)  # from version 1
        assert {r.child_id for r in store.family_balances(2)} == {"B0001", "B0003"}


def test_a_kind_without_nights_in_a_round_carries_its_balance_over(store_url: str) -> None:
    # Christmas week 2026: nights 23-27 December are Christmas nights.
    start = dt.date(2026, 12, 21)
    inp1 = round_input([house("h1", places=1)], [child("B0001", 2), child("B0002", 3)], start=start)
    bookings1 = book("B0001", 2, 3, start=start) + book("B0002", 0, 1, start=start)
    with open_store(store_url) as store:
        store.publish(inp1, bookings1, who="tester", why="christmas")
        christmas = {cid: kinds["christmas"] for cid, kinds in store.balances().items()}
        # Five of the week's seven nights are Christmas nights, so each family's calendar share
        # is 2 × 5/7; the two Christmas nights given are shared one each.
        assert christmas["B0001"] == pytest.approx(1.0)
        assert christmas["B0002"] == pytest.approx(-1.0)
        inp2, bookings2 = second_round()  # January: no Christmas nights
        store.publish(inp2, bookings2, who="tester", why="january")
        after = {cid: kinds["christmas"] for cid, kinds in store.balances().items()}
        assert after == pytest.approx(christmas)
        row = next(
            r for r in store.family_balances(2) if (r.child_id, r.kind) == ("B0002", "christmas")
        )
        assert row.got == 0 and row.balance == pytest.approx(row.got - row.share)


def test_publishing_a_round_again_replaces_it(store_url: str) -> None:
    with open_store(store_url) as store:
        inp1, bookings1 = first_round()
        store.publish(inp1, bookings1, who="tester", why="round 1")
        inp2, bookings2 = second_round()
        store.publish(inp2, bookings2, who="tester", why="round 2")
        before = store.balances()
        # A corrected plan of round 2 starts from round 1's balances again: nothing counted twice.
        assert store.publish(inp2, bookings2, who="tester", why="round 2, corrected") == 3
        assert store.balances() == before
        history = store.history()
        assert history[1].replaced_by == 3
        assert history[2].parent_version == 2
        assert "replaces version 2" in history[2].audit[0].detail


def test_rounds_out_of_order_or_overlapping_are_refused(store_url: str) -> None:
    with open_store(store_url) as store:
        inp2, bookings2 = second_round()
        store.publish(inp2, bookings2, who="tester", why="round 2")
        inp1, bookings1 = first_round()
        with pytest.raises(StoreError, match="starts before the latest published round"):
            store.publish(inp1, bookings1, who="tester", why="late")
        overlapping = week_round(dt.date(2027, 1, 14))
        with pytest.raises(StoreError, match="overlaps the published round"):
            store.publish(overlapping, [], who="tester", why="overlap")
        assert store.latest_version() == 1
        assert len(store.history()[0].audit) == 1


def test_bad_publications_write_nothing(store_url: str) -> None:
    inp, bookings = first_round()
    with open_store(store_url) as store:
        with pytest.raises(StoreError, match="national ID"):
            store.publish(inp, bookings, who="tester", why="for 000000 00000")
        with pytest.raises(StoreError, match="outside the round"):
            store.publish(
                inp, [*bookings, Booking("B0001", "h1", dt.date(2027, 2, 1))], who="t", why="x"
            )
        with pytest.raises(StoreError, match="not in the round"):
            store.publish(inp, [Booking("B0009", "h1", dt.date(2027, 1, 4))], who="t", why="x")
        with pytest.raises(StoreError, match="booked twice"):
            store.publish(inp, [*bookings, bookings[0]], who="t", why="x")
        with pytest.raises(StoreError, match="who publishes"):
            store.publish(inp, bookings, who="  ", why="x")
        with pytest.raises(StoreError, match="no version 7"):
            store.family_balances(7)
        assert store.latest_version() is None
        assert store.history() == []


def test_national_id_numbers_as_child_ids_are_refused(store_url: str) -> None:
    # An all-zero stand-in shaped like a national ID number (11 digits); never a real one.
    inp = round_input([house("h1")], [child("00000000000", 2)])
    with open_store(store_url) as store, pytest.raises(StoreError, match="national ID"):
        store.publish(inp, [], who="tester", why="x")
