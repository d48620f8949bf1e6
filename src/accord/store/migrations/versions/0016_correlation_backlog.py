"""The correlation backlog: versions written without correlation, for the job (issue 21)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 12:00:00

`accord ingest --defer-correlation` writes versions without correlating them and records
their sequence numbers here, in the same transaction; the `correlation` job correlates them
and deletes their rows (docs/correlation.md). Additive: a new table, nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "correlation_backlog",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False, comment="objects.seq"),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("correlation_backlog")
