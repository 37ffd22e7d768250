"""The store: a real database of published rounds, their plans and each family's balances.

`open_store` connects (SQLite file by default, any SQLAlchemy URL, e.g. PostgreSQL with
``postgresql+psycopg://…``), brings the schema to the newest Alembic revision and returns a
`Store`. Every write is one transaction that holds the store's write lock for its whole length:

* SQLite: ``BEGIN IMMEDIATE`` (the write lock is taken before anything is read) with a busy
  timeout, WAL journal so readers never wait for a writer;
* PostgreSQL: a transaction-scoped advisory lock (``pg_advisory_xact_lock``) under a
  ``lock_timeout``, reads in ``REPEATABLE READ`` snapshots.

A second writer therefore waits for the first; if it waits longer than the timeout it gets a
`StoreError` saying the store is busy. (Other databases SQLAlchemy supports work with their
default transactions and no store lock: a collision is refused with a `StoreError`.) A write
that fails or is killed half-way is rolled back by the database: the previous version stays
as it was.

Versions (issue 6): `publish` writes a round's version (kind ``round``); `commit_change`
writes a change to the newest version (an acute stay, a cancellation, an offered free night, a
pin, a move) as a new version whose ``parent_version`` is the one it changed, refused when
another change came first. `diff` compares two versions (`allocator.store.diff`);
`allocator.store.export` writes one out as a plan folder. The rows a change writes are made in
`allocator.store.versions`.

Balances: each round's `KindBalance` rows hold, per family and high-demand kind, the
cumulative ``balance`` (nights got minus fair share, over every round so far). A round's
starting balance for a family is the one of the latest version, ordered by
``(round_start, version)``, of an *earlier* round that has the family. A round published again
with the same start date (a corrected plan) replaces the earlier publication: it starts from
the same balances, so nothing is counted twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Engine, create_engine, event, func, insert, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from allocator.demand import DEMAND_KINDS, fair_shares
from allocator.io.national_id import NATIONAL_ID as _NATIONAL_ID
from allocator.store import versions
from allocator.store.diff import PlanDiff, diff_bookings
from allocator.store.schema import (
    AuditEntry,
    BookingRow,
    KindBalance,
    PlanVersion,
    RoundChild,
)
from models.outputs import BOOKING_KINDS, Booking
from models.round_input import RoundInput

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "CHANGE_ACTIONS",
    "DEFAULT_URL",
    "ENV_VAR",
    "MIGRATIONS_DIR",
    "AuditLine",
    "FamilyBalance",
    "RoundChildInfo",
    "Store",
    "StoreError",
    "VersionInfo",
    "alembic_config",
    "families_owed_first",
    "input_fingerprint",
    "open_store",
    "resolve_url",
]

ENV_VAR = "ALLOCATOR_DB"
"""Environment variable with the store's SQLAlchemy URL."""

DEFAULT_URL = "sqlite:///allocator.db"
"""The store when no URL is given: ``allocator.db`` in the working directory."""

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Alembic's script location, shipped inside the package."""

SCHEMA_HEAD = "0002"
"""The newest Alembic revision in ``migrations/versions`` (a test checks it). A store already
at this revision is opened without loading Alembic at all (half a second of a command's
start-up); any other store goes through Alembic."""

DEFAULT_TIMEOUT = 30.0
"""Seconds a write waits for another writer (or a connection) before giving up."""

ROUND = "round"
"""`PlanVersion.kind` of a published round."""

PUBLISH = "publish"
"""`AuditEntry.action` of a published round."""

CHANGE_ACTIONS = ("acute", "cancel", "offer", "pin", "move")
"""The changes to a published plan the commands make (issue 6); `Store.commit_change` takes
any short lowercase word but ``round`` and ``publish``."""

_ACTION = re.compile(r"[a-z][a-z0-9_-]{0,19}")

_PG_LOCK_KEY = 0x616C6C6F63_7374  # "alloc" "st": the store's advisory lock on PostgreSQL
_BALANCE_DIGITS = 9
_WHO_LENGTH = 100


class StoreError(Exception):
    """The store cannot do what was asked; the message is one plain sentence for the user."""


class NoStoreError(StoreError):
    """There is no store yet where one was to be read (``open_store(create=False)``)."""


@dataclass(frozen=True)
class AuditLine:
    """One line of the audit log."""

    id: int
    at: dt.datetime
    who: str
    action: str
    version: int | None
    detail: str


@dataclass(frozen=True)
class VersionInfo:
    """One version of the plan as `Store.history` lists it.

    Attributes
    ----------
    version
        The version number (1, 2, …).
    created_at
        When it was written (UTC).
    who, why
        Who wrote it and the reason they gave.
    kind
        ``round`` for a published round.
    round_start, round_end
        The round's first and last night.
    n_bookings, n_families
        Bed-nights in the version's plan; children of its round.
    input_hash, input_source
        SHA-256 of the round's input files and where they were read from.
    parent_version
        The version this one changes or replaces (``None`` for a first publication).
    replaced_by
        A later publication of the same round that replaces this one, if any.
    audit
        The audit lines about this version, oldest first.
    """

    version: int
    created_at: dt.datetime
    who: str
    why: str
    kind: str
    round_start: dt.date
    round_end: dt.date
    n_bookings: int
    n_families: int
    input_hash: str | None
    input_source: str | None
    parent_version: int | None
    replaced_by: int | None
    audit: tuple[AuditLine, ...]


class FamilyBalance(NamedTuple):
    """A family's nights of one high-demand kind in one version's round, and its balance."""

    child_id: str
    kind: str
    got: int
    share: float
    balance: float


@dataclass(frozen=True)
class RoundChildInfo:
    """A child of a version's round: grant, nights allocated, pattern, category and level."""

    child_id: str
    granted: int
    allocated: int
    pattern: str
    category: str
    level: int


# ---------------------------------------------------------------------------------------------
# URLs, engines, migrations
# ---------------------------------------------------------------------------------------------


def resolve_url(url: str | None = None) -> str:
    """The store's URL: `url` if given, else ``$ALLOCATOR_DB``, else `DEFAULT_URL`.

    Parameters
    ----------
    url
        A SQLAlchemy URL, or ``None``.

    Returns
    -------
    str
        The URL to connect to.
    """
    if url:
        return url
    return os.environ.get(ENV_VAR) or DEFAULT_URL


def _safe_url(url: URL) -> str:
    """The URL as text with any password hidden (for messages)."""
    return url.render_as_string(hide_password=True)


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def alembic_config(url: str | None = None) -> AlembicConfig:
    """An Alembic configuration for the store without any ``alembic.ini``.

    Parameters
    ----------
    url
        The database URL for Alembic commands run without a connection (writing a new revision
        with ``alembic.command.revision(cfg, autogenerate=True, message=...)``).

    Returns
    -------
    alembic.config.Config
        With ``script_location`` inside the package.
    """
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _make_engine(url: URL, timeout: float) -> Engine:
    """An engine with the store's transaction semantics for SQLite or PostgreSQL."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        memory = _is_memory_sqlite(url)
        kwargs: dict[str, Any] = {"connect_args": {"timeout": timeout, "check_same_thread": False}}
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            _create_private_file(Path(str(url.database)))
        engine = create_engine(url, **kwargs)
        busy_ms = int(timeout * 1000)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # The sqlite3 module's own BEGIN handling is switched off: `_on_begin` emits it.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                _use_wal(cursor, timeout)
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    kwargs = {"pool_pre_ping": True}
    if backend == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        kwargs["connect_args"] = {"connect_timeout": max(1, int(timeout))}
    return create_engine(url, **kwargs)


def _use_wal(cursor: Any, timeout: float) -> None:
    """Put the SQLite file in WAL mode, waiting up to `timeout` for other connections.

    Switching a new file to WAL needs it to itself, and SQLite answers "database is locked"
    at once, without its busy timeout, while another connection reads it: coordinators
    opening a new store together would fail. So this asks again until the timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode is not None and str(mode[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _create_private_file(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (it holds health data)."""
    if path.exists() or not path.parent.is_dir():
        return  # an existing file keeps its mode; a missing folder is reported on connect
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(state) if state else None


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


class Store:
    """Published rounds, their plans and each family's running balance, in one database.

    Made by `open_store`; close it with `close` (or use it as a context manager).
    """

    def __init__(self, engine: Engine, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._engine = engine
        self._timeout = timeout
        self._backend = engine.url.get_backend_name()
        self.url = _safe_url(engine.url)
        """The store's URL, password hidden."""

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection of the store."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn database errors into a `StoreError` with one readable sentence."""
        try:
            yield
        except StoreError:
            raise
        except IntegrityError as exc:
            raise StoreError(
                f"the write conflicts with what is stored ({_first_line(exc)}); nothing was written"
            ) from exc
        except DBAPIError as exc:
            raise StoreError(self._describe(exc)) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.url}: {_first_line(exc)}") from exc

    def _describe(self, exc: DBAPIError) -> str:
        message = _first_line(exc)
        state = _sqlstate(exc)
        lowered = message.lower()
        if state == "55P03" or "database is locked" in lowered or "database is busy" in lowered:
            return (
                f"the store is busy: another coordinator has been writing for more than"
                f" {self._timeout:g} s; nothing was written, try again ({self.url})"
            )
        if state in ("40001", "40P01"):
            return (
                f"the write collided with another coordinator's; nothing was written, try again"
                f" ({self.url})"
            )
        if exc.connection_invalidated or (
            isinstance(exc, OperationalError) and state in (None, "08001", "08006")
        ):
            verb = "open" if self._backend == "sqlite" else "reach"
            return f"cannot {verb} the store at {self.url}: {message}"
        return f"store {self.url}: {message}"

    @contextlib.contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        """A connection inside one write transaction holding the store's write lock."""
        with self._engine.connect() as conn:
            if self._backend == "sqlite":
                conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                if self._backend == "postgresql":
                    wait_ms = int(self._timeout * 1000)
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{wait_ms}ms'")
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """An ORM session in one write transaction: committed at the end, rolled back on error."""
        with self._errors(), self._write_connection() as conn:
            session = Session(bind=conn, autoflush=False, expire_on_commit=False)
            try:
                yield session
                session.flush()
            finally:
                session.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        """An ORM session reading one consistent snapshot."""
        with self._errors(), self._engine.connect() as conn:
            if self._backend == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                session = Session(bind=conn, autoflush=False)
                try:
                    yield session
                finally:
                    session.close()

    def _revision(self) -> str | None:
        """The store's Alembic revision read directly (``None``: no revision table yet)."""
        with self._errors(), self._engine.connect() as conn:
            if not self._engine.dialect.has_table(conn, "alembic_version"):
                return None
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        return str(rows[0][0]) if len(rows) == 1 else None

    def _migrate(self, create: bool = True) -> None:
        """Bring the schema to the newest Alembic revision (under the write lock); with
        ``create`` off, a database that holds no store yet is refused, not given one."""
        if self._revision() == SCHEMA_HEAD:
            return
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = alembic_config()
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
        with self._errors(), self._engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        if current is None and not create:
            raise NoStoreError(f"{self.url} holds no store: publish a round first")
        known = {rev.revision for rev in script.walk_revisions()}
        if current is not None and current not in known:
            raise StoreError(
                f"the store at {self.url} has schema revision {current}, newer than this program"
                f" knows (newest {head}): update the allocator"
            )
        with self._errors(), self._write_connection() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    # -- writing --------------------------------------------------------------------------

    def publish(
        self,
        inp: RoundInput,
        bookings: Sequence[Booking],
        *,
        who: str,
        why: str,
    ) -> int:
        """Record a round's plan as a new version, with its families' balances and an audit line.

        Parameters
        ----------
        inp
            The round's input.
        bookings
            The round's plan, one `Booking` per bed-night (checked by the caller).
        who
            Who publishes (a coordinator's user name).
        why
            The reason, in plain words.

        Returns
        -------
        int
            The new version number.

        Raises
        ------
        StoreError
            The round starts before the latest published round or overlaps it without
            replacing it, a booking is outside the round, an id looks like a national ID
            number, the store is busy or unreachable. Nothing is written then.
        """
        who = who.strip()
        why = why.strip()
        if not who:
            raise StoreError("say who publishes (--who)")
        if len(who) > _WHO_LENGTH:
            raise StoreError(f"--who is longer than {_WHO_LENGTH} characters")
        _check_pseudonymous(inp, bookings, why)
        _check_bookings(inp, bookings)
        input_hash, input_source = input_fingerprint(inp)
        start, end = inp.config.start, inp.config.end
        allocated = Counter(b.child_id for b in bookings)
        now = dt.datetime.now(dt.UTC)
        with self._write() as s:
            replaced = self._check_round_order(s, start, end)
            version = (s.scalar(select(func.max(PlanVersion.version))) or 0) + 1
            previous = _latest_balances(s, before=start)
            s.add(
                PlanVersion(
                    version=version,
                    created_at=now,
                    who=who,
                    why=why,
                    kind=ROUND,
                    parent_version=replaced,
                    round_start=start,
                    round_end=end,
                    input_hash=input_hash,
                    input_source=input_source,
                )
            )
            s.flush()
            if bookings:
                s.execute(
                    insert(BookingRow),
                    [
                        {
                            "version": version,
                            "child_id": b.child_id,
                            "house_id": b.house_id,
                            "night": b.night,
                            "kind": "planned",
                        }
                        for b in sorted(bookings)
                    ],
                )
            children = [
                {
                    "version": version,
                    "child_id": c.child_id,
                    "granted": c.granted_nights,
                    "allocated": allocated.get(c.child_id, 0),
                    "pattern": str(c.pattern),
                    "category": str(c.category),
                    "level": c.level,
                }
                for c in inp.children
            ]
            if children:
                s.execute(insert(RoundChild), children)
            rows = _balance_rows(inp, bookings, previous, version)
            if rows:
                s.execute(insert(KindBalance), rows)
            detail = (
                f"round {start} – {end}: {len(bookings)} bed-nights for {len(allocated)} of"
                f" {len(inp.children)} children; input sha256 {input_hash[:12]}"
            )
            if replaced is not None:
                detail += f"; replaces version {replaced}"
            s.add(AuditEntry(at=now, who=who, action=PUBLISH, version=version, detail=detail))
        return version

    def commit_change(
        self,
        *,
        parent: int,
        bookings: Sequence[Booking],
        kinds: Mapping[tuple[str, dt.date], str],
        action: str,
        who: str,
        why: str,
        detail: str,
        new_children: Sequence[RoundChildInfo] = (),
        pinned: Collection[tuple[str, dt.date]] | None = None,
    ) -> int:
        """Record a change to the newest published plan as a new version, with an audit line.

        Issue 6: "every change to a published plan becomes a new version, with an audit line
        (who, when, why)". The new version belongs to the parent's round (same round, input
        hash and source); its plan is exactly `bookings`; its round children are the parent's
        (``allocated`` recounted: every night but acute ones) plus `new_children`; its family
        balances are the parent's, unchanged. One transaction under the store's write lock, as
        `publish`: all of it is written, or nothing.

        Parameters
        ----------
        parent
            The version the change was made from; it must still be the newest version.
        bookings
            The whole new plan, one `Booking` per bed-night.
        kinds
            ``{(child_id, night): kind}`` for the bookings that are not ``planned``: ``acute``
            or ``offered``. A booking not named keeps its own ``Booking.kind`` (``planned``
            unless set); keys that name no booking are ignored (so the parent's
            `booking_kinds` can be passed on after a cancellation).
        action
            What the change is, also the new version's kind: ``acute``, ``cancel``, ``offer``,
            ``pin``, ``move`` (any short lowercase word but ``round`` and ``publish``).
        who
            Who makes the change.
        why
            The reason, in plain words.
        detail
            The audit line's text (what changed); empty gives a count of bed-nights.
        new_children
            Children not in the parent's round who now have nights (an acute child, granted 0);
            one that is already a child of the parent's version (an earlier change added it)
            keeps the parent's row.
        pinned
            ``(child_id, night)`` of the nights pinned in the new version (``allocator pin``).
            ``None`` keeps the parent's pins on every night still booked in the same house (a
            cancelled night loses its pin).

        Returns
        -------
        int
            The new version number.

        Raises
        ------
        StoreError
            `parent` is not the newest version (someone changed the plan meanwhile), `who` is
            empty, an id or text looks like a national ID number, a booking kind is unknown, a
            child is booked twice a night, outside the round or is not a child of the round,
            the store is busy or unreachable. Nothing is written then.
        """
        who, why, detail, action = who.strip(), why.strip(), detail.strip(), action.strip()
        if not who:
            raise StoreError("say who makes the change (--who)")
        if len(who) > _WHO_LENGTH:
            raise StoreError(f"--who is longer than {_WHO_LENGTH} characters")
        if not _ACTION.fullmatch(action) or action in (ROUND, PUBLISH):
            raise StoreError(
                f"not a change to a plan: {action!r} (one short lowercase word, such as"
                f" {', '.join(CHANGE_ACTIONS)})"
            )
        new_ids = [c.child_id for c in new_children]
        ids = {b.child_id for b in bookings} | set(new_ids) | {cid for cid, _ in kinds}
        _check_ids(ids, {"the reason (--why)": why, "the detail": detail})
        _check_change(bookings, kinds, new_ids)
        now = dt.datetime.now(dt.UTC)
        with self._write() as s:
            newest = s.scalar(select(func.max(PlanVersion.version)))
            base = s.get(PlanVersion, parent)
            if base is None or newest is None:
                raise StoreError(f"there is no version {parent} in the store; nothing was written")
            if newest != parent:
                raise StoreError(
                    f"the plan changed since version {parent} (now version {newest}): run the"
                    " command again; nothing was written"
                )
            start, end = base.round_start, base.round_end
            for b in bookings:
                if not start <= b.night <= end:
                    raise StoreError(
                        f"booking {b.child_id} {b.night}: the night is outside the round"
                        f" {start} – {end}; nothing was written"
                    )
            known = set(s.scalars(select(RoundChild.child_id).where(RoundChild.version == parent)))
            new_children = [c for c in new_children if c.child_id not in known]
            unknown = sorted({b.child_id for b in bookings} - known - set(new_ids))
            if unknown:
                raise StoreError(
                    f"not children of the round of version {parent}: {', '.join(unknown)} (an"
                    " acute child is added as a new child); nothing was written"
                )
            version = newest + 1
            s.add(
                PlanVersion(
                    version=version,
                    created_at=now,
                    who=who,
                    why=why,
                    kind=action,
                    parent_version=parent,
                    round_start=start,
                    round_end=end,
                    input_hash=base.input_hash,
                    input_source=base.input_source,
                )
            )
            s.flush()
            if pinned is None:
                kept = versions.pinned_rows(s, parent)
                if kept:
                    before = {
                        (b.child_id, b.night): b.house_id for b in versions.plan_rows(s, parent)
                    }
                    pinned = {
                        (b.child_id, b.night)
                        for b in bookings
                        if (b.child_id, b.night) in kept
                        and before.get((b.child_id, b.night)) == b.house_id
                    }
            versions.insert_bookings(s, version, bookings, kinds, pinned or frozenset())
            allocated = versions.allocated_nights(bookings, kinds)
            children = versions.child_rows(s, parent, version, allocated, new_children)
            if children:
                s.execute(insert(RoundChild), children)
            versions.copy_balances(s, parent, version)
            if not detail:
                before = s.scalar(
                    select(func.count()).select_from(BookingRow).where(BookingRow.version == parent)
                )
                detail = f"{action}: {len(bookings)} bed-nights (version {parent} had {before})"
            s.add(AuditEntry(at=now, who=who, action=action, version=version, detail=detail))
        return version

    def _check_round_order(self, s: Session, start: dt.date, end: dt.date) -> int | None:
        """Refuse a round out of order; return the version it replaces (same start), if any."""
        latest = s.execute(
            select(PlanVersion.version, PlanVersion.round_start, PlanVersion.round_end)
            .where(PlanVersion.kind == ROUND)
            .order_by(PlanVersion.round_start.desc(), PlanVersion.version.desc())
            .limit(1)
        ).first()
        if latest is None:
            return None
        version, latest_start, latest_end = latest
        if start == latest_start:
            return int(version)
        if start < latest_start:
            raise StoreError(
                f"the round {start} – {end} starts before the latest published round"
                f" ({latest_start} – {latest_end}, version {version}): rounds are published in"
                " order, so that each starts from the balances of the one before"
            )
        if start <= latest_end:
            raise StoreError(
                f"the round {start} – {end} overlaps the published round {latest_start} –"
                f" {latest_end} (version {version}): nights would be counted twice; publish a"
                f" round starting after {latest_end}, or one starting {latest_start} to replace it"
            )
        return None

    # -- reading --------------------------------------------------------------------------

    def latest_version(self) -> int | None:
        """The newest version number, or ``None`` when nothing is published."""
        with self._read() as s:
            return s.scalar(select(func.max(PlanVersion.version)))

    def balances(self) -> dict[str, dict[str, float]]:
        """Each family's latest cumulative balance per high-demand kind (what the next round reads).

        Returns
        -------
        dict
            ``{child_id: {kind: got − share summed over rounds}}``; negative means the family is
            owed nights of that kind. A family absent from the newest round keeps the balance of
            the latest round it was in.
        """
        with self._read() as s:
            return _latest_balances(s, before=None)

    def family_balances(self, version: int) -> list[FamilyBalance]:
        """The rows of one version: each family's nights, share and balance per kind.

        Parameters
        ----------
        version
            A version number.

        Returns
        -------
        list of FamilyBalance
            ``(child_id, kind, got, share, balance)`` by child, kinds in `DEMAND_KINDS` order.
        """
        with self._read() as s:
            self._require_version(s, version)
            rows = s.scalars(select(KindBalance).where(KindBalance.version == version)).all()
        order = {kind: i for i, kind in enumerate(DEMAND_KINDS)}
        result = [FamilyBalance(r.child_id, r.kind, r.got, r.share, r.balance) for r in rows]
        return sorted(result, key=lambda r: (r.child_id, order.get(r.kind, len(order)), r.kind))

    def bookings(self, version: int | None = None) -> list[Booking]:
        """The plan of a version (the newest when `version` is ``None``), sorted, each booking
        with its kind (``planned``, ``acute``, ``offered``).

        Parameters
        ----------
        version
            A version number, or ``None`` for the newest.

        Returns
        -------
        list of Booking
            Empty when nothing is published.
        """
        with self._read() as s:
            if version is None:
                version = s.scalar(select(func.max(PlanVersion.version)))
                if version is None:
                    return []
            else:
                self._require_version(s, version)
            return versions.plan_rows(s, version)

    def booking_kinds(self, version: int | None = None) -> dict[tuple[str, dt.date], str]:
        """The bookings of a version that are not ``planned`` (issue 6: acute and offered nights).

        Parameters
        ----------
        version
            A version number, or ``None`` for the newest.

        Returns
        -------
        dict
            ``{(child_id, night): kind}``; empty when nothing is published.
        """
        with self._read() as s:
            if version is None:
                version = s.scalar(select(func.max(PlanVersion.version)))
                if version is None:
                    return {}
            else:
                self._require_version(s, version)
            rows = s.execute(
                select(BookingRow.child_id, BookingRow.night, BookingRow.kind).where(
                    BookingRow.version == version, BookingRow.kind != versions.PLANNED
                )
            ).all()
        return {(c, n): k for c, n, k in sorted(rows)}

    def pinned_nights(self, version: int | None = None) -> set[tuple[str, dt.date]]:
        """The nights of a version pinned with the family (``allocator pin``): an acute request
        or a manual move never moves them.

        Parameters
        ----------
        version
            A version number, or ``None`` for the newest.

        Returns
        -------
        set of (child_id, night)
            Empty when nothing is published or nothing is pinned.
        """
        with self._read() as s:
            if version is None:
                version = s.scalar(select(func.max(PlanVersion.version)))
                if version is None:
                    return set()
            else:
                self._require_version(s, version)
            return versions.pinned_rows(s, version)

    def diff(self, a: int, b: int) -> PlanDiff:
        """Compare version `b` against version `a` (issue 6: "any version can be … compared").

        Parameters
        ----------
        a, b
            Version numbers (read in one snapshot).

        Returns
        -------
        PlanDiff
            Per child the nights added, removed, moved to another house and re-kinded, with
            totals; `allocator.store.diff.format_diff` says it in plain lines.
        """
        with self._read() as s:
            self._require_version(s, a)
            self._require_version(s, b)
            plan_a = versions.plan_rows(s, a)
            plan_b = versions.plan_rows(s, b)
            pinned_a = versions.pinned_rows(s, a)
            pinned_b = versions.pinned_rows(s, b)
        return diff_bookings(a, b, plan_a, plan_b, pinned_a, pinned_b)

    def round_children(self, version: int) -> list[RoundChildInfo]:
        """The children of a version's round, by child id.

        Parameters
        ----------
        version
            A version number.

        Returns
        -------
        list of RoundChildInfo
        """
        with self._read() as s:
            self._require_version(s, version)
            rows = s.scalars(
                select(RoundChild)
                .where(RoundChild.version == version)
                .order_by(RoundChild.child_id)
            ).all()
            return [
                RoundChildInfo(r.child_id, r.granted, r.allocated, r.pattern, r.category, r.level)
                for r in rows
            ]

    def history(self) -> list[VersionInfo]:
        """Every version, oldest first, with its audit lines.

        Returns
        -------
        list of VersionInfo
        """
        with self._read() as s:
            versions = s.scalars(select(PlanVersion).order_by(PlanVersion.version)).all()
            n_bookings: dict[int, int] = {
                v: n
                for v, n in s.execute(
                    select(BookingRow.version, func.count()).group_by(BookingRow.version)
                )
            }
            n_families: dict[int, int] = {
                v: n
                for v, n in s.execute(
                    select(RoundChild.version, func.count()).group_by(RoundChild.version)
                )
            }
            audit: dict[int | None, list[AuditLine]] = {}
            for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id)):
                line = AuditLine(a.id, a.at, a.who, a.action, a.version, a.detail)
                audit.setdefault(a.version, []).append(line)
            replaced_by = {
                v.parent_version: v.version
                for v in versions
                if v.kind == ROUND and v.parent_version is not None
            }
            return [
                VersionInfo(
                    version=v.version,
                    created_at=v.created_at,
                    who=v.who,
                    why=v.why,
                    kind=v.kind,
                    round_start=v.round_start,
                    round_end=v.round_end,
                    n_bookings=int(n_bookings.get(v.version, 0)),
                    n_families=int(n_families.get(v.version, 0)),
                    input_hash=v.input_hash,
                    input_source=v.input_source,
                    parent_version=v.parent_version,
                    replaced_by=replaced_by.get(v.version),
                    audit=tuple(audit.get(v.version, ())),
                )
                for v in versions
            ]

    @staticmethod
    def _require_version(s: Session, version: int) -> None:
        if s.get(PlanVersion, version) is None:
            raise StoreError(f"there is no version {version} in the store")


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _latest_balances(s: Session, before: dt.date | None) -> dict[str, dict[str, float]]:
    """Per family, the balances of the latest version (by round start, then number) that has
    the family, among versions of rounds starting before `before` (all when ``None``)."""
    query = (
        select(
            KindBalance.child_id,
            KindBalance.kind,
            KindBalance.balance,
            PlanVersion.version,
        )
        .join(PlanVersion, PlanVersion.version == KindBalance.version)
        .order_by(PlanVersion.round_start, PlanVersion.version)
    )
    if before is not None:
        query = query.where(PlanVersion.round_start < before)
    latest: dict[str, tuple[int, dict[str, float]]] = {}
    for child_id, kind, balance, version in s.execute(query):
        seen = latest.get(child_id)
        if seen is None or seen[0] != version:
            seen = (version, {})
            latest[child_id] = seen
        seen[1][kind] = float(balance)
    return {child_id: kinds for child_id, (_, kinds) in sorted(latest.items())}


def _balance_rows(
    inp: RoundInput,
    bookings: Sequence[Booking],
    previous: Mapping[str, Mapping[str, float]],
    version: int,
) -> list[dict[str, Any]]:
    """One row per family and demand kind: got, what it was owed (share) and its new balance.

    `fair_shares` subtracts the carried balance from the share, so ``got − share`` is this
    round's deviation plus the balance before it. A kind without nights in this round carries
    the balance over unchanged (got 0, owed ``−balance``).
    """
    shares = fair_shares(inp, bookings, previous)
    rows: list[dict[str, Any]] = []
    for child_id in sorted(shares):
        for kind in DEMAND_KINDS:
            ks = shares[child_id].get(kind)
            carried = float(previous.get(child_id, {}).get(kind, 0.0))
            got, share = (ks.got, ks.share) if ks is not None else (0, -carried)
            rows.append(
                {
                    "version": version,
                    "child_id": child_id,
                    "kind": kind,
                    "got": int(got),
                    "share": round(float(share), _BALANCE_DIGITS) + 0.0,
                    "balance": round(float(got - share), _BALANCE_DIGITS) + 0.0,
                }
            )
    return rows


def _check_pseudonymous(inp: RoundInput, bookings: Sequence[Booking], why: str) -> None:
    """Refuse anything that looks like a Norwegian national ID number (11 digits)."""
    ids = {c.child_id for c in inp.children} | {b.child_id for b in bookings}
    _check_ids(ids, {"the reason (--why)": why})


def _check_ids(ids: set[str], texts: Mapping[str, str]) -> None:
    """Refuse child ids, or free texts (``{what: text}``: the reason, a detail), that look like
    a Norwegian national ID number (11 digits): the store keeps pseudonymous ids only."""
    bad = sorted(i for i in ids if _NATIONAL_ID.search(i))
    if bad:
        raise StoreError(
            f"{len(bad)} child id(s) look like national ID numbers (11 digits): the store keeps"
            " pseudonymous ids only; nothing was written"
        )
    for what, text_ in texts.items():
        if _NATIONAL_ID.search(text_):
            raise StoreError(
                f"{what} contains what looks like a national ID number; nothing was written"
            )


def _check_change(
    bookings: Sequence[Booking],
    kinds: Mapping[tuple[str, dt.date], str],
    new_ids: Sequence[str],
) -> None:
    """A changed plan has known booking kinds, one place a child a night, new children once."""
    bad = sorted({versions.booking_kind(b, kinds) for b in bookings} - set(BOOKING_KINDS))
    if bad:
        raise StoreError(
            f"unknown booking kind {', '.join(map(repr, bad))} (one of"
            f" {', '.join(BOOKING_KINDS)}); nothing was written"
        )
    seen: set[tuple[str, dt.date]] = set()
    for b in bookings:
        if (b.child_id, b.night) in seen:
            raise StoreError(
                f"booking {b.child_id} {b.night}: the child is booked twice a night;"
                " nothing was written"
            )
        seen.add((b.child_id, b.night))
    twice = sorted(cid for cid, n in Counter(new_ids).items() if n > 1)
    if twice:
        raise StoreError(f"new children given twice: {', '.join(twice)}; nothing was written")


def _check_bookings(inp: RoundInput, bookings: Sequence[Booking]) -> None:
    """Every booking is for a child and house of the round, on a night of the round."""
    start, end = inp.config.start, inp.config.end
    seen: set[tuple[str, dt.date]] = set()
    for b in bookings:
        if not inp.has_child(b.child_id):
            raise StoreError(f"booking {b.child_id} {b.night}: the child is not in the round")
        if not inp.has_house(b.house_id):
            raise StoreError(f"booking {b.child_id} {b.night}: unknown house {b.house_id}")
        if not start <= b.night <= end:
            raise StoreError(
                f"booking {b.child_id} {b.night}: the night is outside the round {start} – {end}"
            )
        if (b.child_id, b.night) in seen:
            raise StoreError(f"booking {b.child_id} {b.night}: the child is booked twice a night")
        seen.add((b.child_id, b.night))


def input_fingerprint(inp: RoundInput) -> tuple[str, str]:
    """SHA-256 of a round's input files, and where they are.

    Parameters
    ----------
    inp
        The round's input; ``inp.source`` is the folder or workbook it was read from.

    Returns
    -------
    tuple of str
        ``(hex digest, source)``. A folder is hashed over its files' names and bytes (sorted by
        name, hidden and Office lock files left out), a workbook over its bytes. Input made in
        memory (no source on disk) is hashed over its validated contents, and the source is
        ``"(in memory)"``.
    """
    digest = hashlib.sha256()
    source = Path(inp.source) if inp.source else None
    if source is not None and source.is_dir():
        for path in sorted(source.iterdir()):
            if path.is_file() and not path.name.startswith((".", "~$")):
                digest.update(path.name.encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest(), str(source.resolve())
    if source is not None and source.is_file():
        digest.update(source.read_bytes())
        return digest.hexdigest(), str(source.resolve())
    content = {
        "config": _canonical(inp.config.model_dump()),
        "tables": {
            name: [_canonical(row.model_dump()) for row in getattr(inp, name)]
            for name in (
                "houses",
                "children",
                "unavailable",
                "wishes",
                "incompatible",
                "closures",
                "calendar",
                "pins",
            )
            if hasattr(inp, name)
        },
    }
    digest.update(json.dumps(content, sort_keys=True).encode())
    return digest.hexdigest(), "(in memory)"


def _canonical(value: Any) -> Any:
    """JSON-ready data with sets sorted, so the same input always hashes the same."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def families_owed_first(balances: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Families by total balance over all kinds, most owed (most negative) first.

    Parameters
    ----------
    balances
        As returned by `Store.balances`.

    Returns
    -------
    list of str
        Child ids; ties by id.
    """
    return sorted(balances, key=lambda cid: (sum(balances[cid].values()), cid))


def open_store(
    url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT, create: bool = True
) -> Store:
    """Open the store and bring its schema to the newest Alembic revision.

    Parameters
    ----------
    url
        A SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://user@host/db``); else
        ``$ALLOCATOR_DB``; else ``sqlite:///allocator.db`` in the working directory.
    timeout
        Seconds to wait for another writer (and to connect) before raising `StoreError`.
    create
        Make the store when there is none (``publish``); off for the commands that only
        read or change a published round, so a mistyped ``--db`` makes no new file.

    Returns
    -------
    Store

    Raises
    ------
    StoreError
        Not a database URL, no driver for it, the database is unreachable, or its schema is
        newer than this program.
    """
    text_url = resolve_url(url)
    try:
        parsed = make_url(text_url)
    except ArgumentError:
        raise StoreError(
            f"not a database URL: {text_url!r} (e.g. sqlite:///allocator.db or"
            " postgresql+psycopg://user@host/db)"
        ) from None
    sqlite_file = parsed.get_backend_name() == "sqlite" and not _is_memory_sqlite(parsed)
    if not create and sqlite_file and not Path(str(parsed.database)).is_file():
        raise NoStoreError(f"no store at {parsed.database}: publish a round first")
    try:
        engine = _make_engine(parsed, timeout)
    except NoSuchModuleError:
        raise StoreError(f"no database driver for {_safe_url(parsed)}") from None
    except (ArgumentError, ImportError, OSError) as exc:
        raise StoreError(f"cannot use {_safe_url(parsed)}: {_first_line(exc)}") from None
    store = Store(engine, timeout)
    try:
        store._migrate(create)
    except BaseException:
        store.close()
        raise
    return store
