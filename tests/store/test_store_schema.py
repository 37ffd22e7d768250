"""Opening the store: Alembic builds the schema to head on SQLite and PostgreSQL, and only once.

Also: where the store is when no URL is given, and the one-line errors for a bad URL, an
unreachable server and a schema newer than the program.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from store_helpers import first_round

from allocator.store import StoreError, alembic_config, open_store
from allocator.store.db import SCHEMA_HEAD
from allocator.store.schema import Base

TABLES = {"plan_versions", "bookings", "round_children", "kind_balances", "audit_log"}


def _engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(url, poolclass=NullPool)


def test_open_migrates_to_head(store_url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == "0002"
    # A store at SCHEMA_HEAD is opened without Alembic: it must be the scripts' head.
    assert head == SCHEMA_HEAD
    open_store(store_url).close()
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            inspector = inspect(conn)
            assert TABLES | {"alembic_version"} <= set(inspector.get_table_names())
            columns = {c["name"] for c in inspector.get_columns("plan_versions")}
            assert {
                "version",
                "created_at",
                "who",
                "why",
                "kind",
                "round_start",
                "round_end",
                "input_hash",
                "input_source",
            } <= columns
            booking_indexes = {i["name"] for i in inspector.get_indexes("bookings")}
            assert "ix_bookings_version_night" in booking_indexes
            assert inspector.get_pk_constraint("bookings")["constrained_columns"] == [
                "version",
                "child_id",
                "night",
            ]
            # The ORM models describe exactly what the migrations built.
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_reopening_keeps_the_schema_and_the_data(store_url: str) -> None:
    inp, bookings = first_round()
    with open_store(store_url) as store:
        store.publish(inp, bookings, who="tester", why="first")
    with open_store(store_url) as store:
        assert store.latest_version() == 1
        assert len(store.bookings(1)) == len(bookings)
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()


def test_schema_newer_than_the_program_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    engine = _engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="newer than this program"):
        open_store(store_url)


def test_default_store_is_allocator_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert store.url == "sqlite:///allocator.db"
    path = tmp_path / "allocator.db"
    assert path.is_file()
    # Health data: the new file is readable by its owner only.
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_env_var_names_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALLOCATOR_DB", f"sqlite:///{tmp_path / 'shared.db'}")
    open_store().close()
    assert (tmp_path / "shared.db").is_file()
    assert not (tmp_path / "allocator.db").exists()


def test_bad_url_and_unreachable_server_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("no such thing")
    with pytest.raises(StoreError, match="no database driver"):
        open_store("nosuchdb://x/y")
    with pytest.raises(StoreError, match="cannot open the store") as caught:
        open_store(f"sqlite:///{tmp_path / 'missing-folder' / 'allocator.db'}")
    assert "\n" not in str(caught.value)
    # Port 1 on localhost: nothing listens there.
    with pytest.raises(StoreError, match="cannot reach the store") as caught:
        open_store("postgresql+psycopg://someone:secret@127.0.0.1:1/allocator", timeout=2)
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_migrations_run_down_and_up_again(store_url: str) -> None:
    open_store(store_url).close()
    # Without a connection the environment uses the URL (as for writing a new revision).
    command.downgrade(alembic_config(store_url), "base")
    engine = _engine(store_url)
    try:
        with engine.connect() as conn:
            assert not TABLES & set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    inp, bookings = first_round()
    with open_store(store_url) as store:
        assert store.publish(inp, bookings, who="tester", why="after a rebuild") == 1


def test_in_memory_store() -> None:
    inp, bookings = first_round()
    with open_store("sqlite://") as store:
        assert store.publish(inp, bookings, who="tester", why="memory") == 1
        assert store.bookings(1) == sorted(bookings)
