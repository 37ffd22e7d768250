"""Create the store: plan versions, bookings, round children, kind balances and the audit log.

Revision ID: 0001
Revises:
Create Date: 2027-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allocator.store.schema import UTCDateTime

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create every table of the store (the schema of `allocator.store.schema` at 0001)."""
    op.create_table(
        "plan_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_version", sa.Integer(), nullable=True),
        sa.Column("round_start", sa.Date(), nullable=False),
        sa.Column("round_end", sa.Date(), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=True),
        sa.Column("input_source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_version"],
            ["plan_versions.version"],
            name=op.f("fk_plan_versions_parent_version_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_plan_versions")),
    )
    op.create_table(
        "bookings",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.String(length=40), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("house_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="planned", nullable=False),
        sa.ForeignKeyConstraint(
            ["version"], ["plan_versions.version"], name=op.f("fk_bookings_version_plan_versions")
        ),
        sa.PrimaryKeyConstraint("version", "child_id", "night", name=op.f("pk_bookings")),
    )
    op.create_index("ix_bookings_version_night", "bookings", ["version", "night"])
    op.create_table(
        "round_children",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=2), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["plan_versions.version"],
            name=op.f("fk_round_children_version_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("version", "child_id", name=op.f("pk_round_children")),
    )
    op.create_table(
        "kind_balances",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("got", sa.Integer(), nullable=False),
        sa.Column("share", sa.Double(), nullable=False),
        sa.Column("balance", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["plan_versions.version"],
            name=op.f("fk_kind_balances_version_plan_versions"),
        ),
        sa.PrimaryKeyConstraint("version", "child_id", "kind", name=op.f("pk_kind_balances")),
    )
    op.create_index("ix_kind_balances_child_id", "kind_balances", ["child_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("who", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["version"], ["plan_versions.version"], name=op.f("fk_audit_log_version_plan_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_version", "audit_log", ["version"])


def downgrade() -> None:
    """Drop every table (the store's data with them)."""
    op.drop_index("ix_audit_log_version", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_kind_balances_child_id", table_name="kind_balances")
    op.drop_table("kind_balances")
    op.drop_table("round_children")
    op.drop_index("ix_bookings_version_night", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("plan_versions")
