"""The audit log's archives: where its chain was cut and what it starts from (issue 21)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:00:00

`accord audit archive` moves old entries to a signed file (docs/audit.md) and records the
file's manifest here; the newest row anchors the live log's hash chain. Additive: a new
table, nothing else changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_archives",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("created", sa.String(length=27), nullable=False),
        sa.Column(
            "last_seq", SEQ, nullable=False, comment="audit_log.seq of the last entry archived"
        ),
        sa.Column(
            "last_hash",
            sa.String(length=64),
            nullable=False,
            comment="its hash: the live chain's start",
        ),
        sa.Column(
            "manifest", sa.Text(), nullable=False, comment="JSON: the archive's signed manifest"
        ),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("audit_archives")
