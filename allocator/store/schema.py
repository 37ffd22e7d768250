"""The store's tables as SQLAlchemy 2.0 typed ORM models.

The schema itself is created and changed only by the Alembic revisions in
``allocator/store/migrations/versions`` (revision ``0001`` creates everything below,
``0002`` adds ``bookings.pinned``); these models describe it for queries, and a test checks
that they match what the migrations build.

Every change to the plan is a new row of `PlanVersion`; the rows of the other tables belong to
one version and are never updated afterwards, so any version can be read back (or exported)
exactly as it was written. Who did what, and why, is in `AuditEntry`.

Only pseudonymous child ids are stored (``B0001``, …): no names, no national ID numbers. The
rows are still health data about children (category, service level, nights in respite).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Constraint names Alembic can find again (SQLite batch migrations need named constraints).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 40
"""Longest child or house id (the input contract's ``Id``)."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back as a timezone-aware UTC `datetime`.

    PostgreSQL keeps ``timestamp with time zone``; SQLite has no time zones, so the naive UTC
    time is stored there and the zone is put back on reading.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert an aware `datetime` to UTC (naive UTC for databases without zones)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store timestamps must be timezone-aware")
        value = value.astimezone(dt.UTC)
        if dialect.name == "postgresql":
            return value
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Return the stored time as an aware UTC `datetime`."""
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PlanVersion(Base):
    """One version of the plan: a published round now; acute stays, cancellations, pins and
    manual moves (issue 6) later, each a new version derived from ``parent_version``.

    ``version`` numbers are given out one by one under the store's write lock (1, 2, 3, … with
    no gaps, on every database). ``round_start`` and ``round_end`` are the round the version
    belongs to; ``input_hash`` is the SHA-256 of the round's input files and ``input_source``
    where they were read from.
    """

    __tablename__ = "plan_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    who: Mapped[str] = mapped_column(String(100), nullable=False)
    why: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    parent_version: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.version"), nullable=True
    )
    round_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    round_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input_source: Mapped[str | None] = mapped_column(Text, nullable=True)


class BookingRow(Base):
    """One bed-night of a version's plan (contract v1's bookings.csv plus ``kind``).

    ``kind`` is ``planned`` for a round's nights; issue 6 adds ``acute`` and ``offered``. The
    primary key keeps a child in one place a night within a version. ``pinned`` (revision 0002)
    marks a night the coordinator agreed with the family (``allocator pin``): an acute request
    or a manual move never moves it.
    """

    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_version_night", "version", "night"),)

    version: Mapped[int] = mapped_column(ForeignKey("plan_versions.version"), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    night: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    house_id: Mapped[str] = mapped_column(String(ID_LENGTH), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="planned")
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class RoundChild(Base):
    """A child of the version's round: its grant, the nights it got and what the next round
    needs to know of it (pattern, category, service level)."""

    __tablename__ = "round_children"

    version: Mapped[int] = mapped_column(ForeignKey("plan_versions.version"), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    granted: Mapped[int] = mapped_column(Integer, nullable=False)
    allocated: Mapped[int] = mapped_column(Integer, nullable=False)
    pattern: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str] = mapped_column(String(2), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)


class KindBalance(Base):
    """A family's high-demand nights of one kind in a version's round, and its running balance.

    ``got`` is the nights of that kind the family got this round; ``share`` what it was owed
    this round (its proportional share minus the balance it carried in, as
    `allocator.demand.fair_shares` computes it); ``balance = got − share`` is the cumulative
    balance over every round so far. A negative balance means the family got less than its
    share and comes first next round.
    """

    __tablename__ = "kind_balances"
    __table_args__ = (Index("ix_kind_balances_child_id", "child_id"),)

    version: Mapped[int] = mapped_column(ForeignKey("plan_versions.version"), primary_key=True)
    child_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    got: Mapped[int] = mapped_column(Integer, nullable=False)
    share: Mapped[float] = mapped_column(Double, nullable=False)
    balance: Mapped[float] = mapped_column(Double, nullable=False)


class AuditEntry(Base):
    """One line of the audit log: who did what, when, to which version, in plain words."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_version", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    who: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.version"), nullable=True)
    detail: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
