"""object_refs keyed by (ref, role, seq): one index, no rowid on SQLite, no foreign key

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Rebuilt rather than altered: SQLite cannot add a primary key or drop the rowid in place.
    op.create_table(
        "object_refs_keyed",
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "seq",
            SEQ,
            autoincrement=False,
            nullable=False,
            comment="objects.seq (derived rows: no FK check)",
        ),
        sa.PrimaryKeyConstraint("ref", "role", "seq"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO object_refs_keyed (ref, role, seq) "
        "SELECT DISTINCT ref, role, seq FROM object_refs"
    )
    op.drop_table("object_refs")
    op.rename_table("object_refs_keyed", "object_refs")
    if op.get_bind().dialect.name == "postgresql":
        # The constraint keeps the name it was created with; give it the one a fresh schema has.
        op.execute(
            "ALTER TABLE object_refs RENAME CONSTRAINT object_refs_keyed_pkey TO object_refs_pkey"
        )


def downgrade() -> None:
    op.create_table(
        "object_refs_rowid",
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["seq"], ["objects.seq"]),
    )
    op.execute(
        "INSERT INTO object_refs_rowid (seq, role, ref) SELECT seq, role, ref FROM object_refs"
    )
    op.drop_table("object_refs")
    op.rename_table("object_refs_rowid", "object_refs")
    op.create_index("ix_object_refs_ref", "object_refs", ["ref", "role"], unique=False)
    op.create_index("ix_object_refs_seq", "object_refs", ["seq"], unique=False)
