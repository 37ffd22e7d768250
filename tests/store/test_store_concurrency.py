"""Writes are all or nothing, and writers take turns.

A write that raises half-way, or whose process is killed half-way, leaves the previous version
as it was; writers at the same moment land one after the other as distinct versions; a writer
that waits longer than its timeout gets a clear `StoreError` and writes nothing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from store_helpers import first_round, second_round

import allocator.store.db as store_db
from allocator.store import StoreError, open_store

TABLES = ("plan_versions", "bookings", "round_children", "kind_balances", "audit_log")
HERE = Path(__file__).resolve().parent


def table_counts(url: str) -> dict[str, int]:
    """Rows in each table of the store, read with a connection of its own."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {t: int(conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in TABLES}
    finally:
        engine.dispose()


def snapshot(url: str) -> tuple[Any, ...]:
    """Everything a reader can see of the store."""
    with open_store(url) as store:
        return (
            table_counts(url),
            store.history(),
            store.balances(),
            store.bookings(),
            store.family_balances(1),
        )


def wrap_fair_shares(monkeypatch: pytest.MonkeyPatch, before: Callable[[], None]) -> None:
    """Call `before` inside the write transaction (where the balances are computed)."""
    real = store_db.fair_shares

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        before()
        return real(*args, **kwargs)

    monkeypatch.setattr(store_db, "fair_shares", wrapped)


def test_a_write_that_fails_half_way_leaves_the_previous_version(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inp1, bookings1 = first_round()
    inp2, bookings2 = second_round()
    with open_store(store_url) as store:
        store.publish(inp1, bookings1, who="tester", why="round 1")
    before = snapshot(store_url)

    def fail() -> None:
        # By now version 2, its bookings and its children are written in the transaction.
        raise RuntimeError("killed half-way")

    wrap_fair_shares(monkeypatch, fail)
    with open_store(store_url) as store, pytest.raises(RuntimeError, match="half-way"):
        store.publish(inp2, bookings2, who="tester", why="round 2")
    assert snapshot(store_url) == before
    monkeypatch.undo()
    with open_store(store_url) as store:
        assert store.publish(inp2, bookings2, who="tester", why="round 2") == 2  # no gap


def test_a_killed_writer_leaves_the_previous_version(store_url: str) -> None:
    inp1, bookings1 = first_round()
    with open_store(store_url) as store:
        store.publish(inp1, bookings1, who="tester", why="round 1")
    before = snapshot(store_url)
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(HERE)!r})
        from store_helpers import second_round
        import allocator.store.db as store_db

        def die(*args, **kwargs):
            os._exit(3)  # the process dies inside the write transaction, without cleanup

        store_db.fair_shares = die
        inp, bookings = second_round()
        store_db.open_store(sys.argv[1]).publish(inp, bookings, who="killed", why="x")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, store_url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert snapshot(store_url) == before
    inp2, bookings2 = second_round()
    with open_store(store_url, timeout=10) as store:
        assert store.publish(inp2, bookings2, who="tester", why="round 2") == 2


def test_concurrent_publishes_land_one_after_the_other(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers = 4
    wrap_fair_shares(monkeypatch, lambda: time.sleep(0.15))  # hold the write a while
    barrier = threading.Barrier(writers)
    versions: list[int] = []
    errors: list[BaseException] = []

    def coordinator(i: int) -> None:
        try:
            # Each coordinator opens the (still empty) store itself: migrations race too.
            with open_store(store_url) as store:
                inp, bookings = first_round()
                barrier.wait(timeout=30)
                versions.append(store.publish(inp, bookings, who=f"coordinator{i}", why="same"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=coordinator, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(versions) == list(range(1, writers + 1))
    with open_store(store_url) as store:
        history = store.history()
        # Each write saw the one before it: every publication replaces its predecessor.
        assert [v.parent_version for v in history] == [None, *range(1, writers)]
        assert all(v.n_bookings == 5 and v.n_families == 2 for v in history)
        assert all(len(v.audit) == 1 for v in history)
        assert len({v.who for v in history}) == writers
        rows = [store.family_balances(v.version) for v in history]
        assert all(r == rows[0] for r in rows)
    assert table_counts(store_url) == {
        "plan_versions": writers,
        "bookings": 5 * writers,
        "round_children": 2 * writers,
        "kind_balances": 14 * writers,
        "audit_log": writers,
    }


def test_a_writer_that_waits_too_long_gets_a_clear_error(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        release.wait(20)

    inp1, bookings1 = first_round()
    published: list[int] = []
    with open_store(store_url) as first, open_store(store_url, timeout=0.5) as second:
        wrap_fair_shares(monkeypatch, hold)
        writer = threading.Thread(
            target=lambda: published.append(first.publish(inp1, bookings1, who="a", why="x"))
        )
        writer.start()
        try:
            assert inside.wait(20)
            started = time.monotonic()
            with pytest.raises(StoreError, match="the store is busy") as caught:
                second.publish(inp1, bookings1, who="b", why="y")
            assert time.monotonic() - started < 10
            assert "\n" not in str(caught.value)
            assert second.latest_version() is None  # reading does not wait for the writer
        finally:
            release.set()
            writer.join(timeout=30)
    assert published == [1]
    with open_store(store_url) as store:
        assert [(v.version, v.who) for v in store.history()] == [(1, "a")]


def test_opening_a_new_store_waits_for_another_writer(tmp_path: Path) -> None:
    # While another connection holds a new file's write lock, SQLite refuses the switch to WAL
    # at once, without its busy timeout: coordinators opening a new store together met this.
    path = tmp_path / "allocator.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE early (x INTEGER)")
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, other.rollback).start()
    with open_store(f"sqlite:///{path}", timeout=10) as store:
        assert store.history() == []
    other.close()
