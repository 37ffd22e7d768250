"""Pinned nights: ``bookings.pinned`` marks a night agreed with the family (``allocator pin``).

Revision ID: 0002
Revises: 0001
Create Date: 2027-02-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``bookings.pinned`` (false for every night stored before)."""
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(
            sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Drop ``bookings.pinned`` (the pins with it; the nights stay)."""
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("pinned")
