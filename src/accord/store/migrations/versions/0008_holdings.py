"""Each organisation's holding of an object is its own: versions keyed by (id, modified, owner_org)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:00:00

Two organisations that store the same version (an SCO whose id is derived from its value, a
public bundle both ingest) each keep their own row with their own audience; before, the second
was answered "duplicate", which told it that someone else held the object (issue 14).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_INDEXES = (
    ("ix_objects_latest_type", ("is_latest", "type", "seq")),
    ("ix_objects_owner", ("owner_org", "seq")),
    ("ix_objects_date_added", ("date_added", "seq")),
)
_COLUMNS = (
    "seq, id, modified, type, spec_version, created_by_ref, revoked, is_latest, tlp, "
    "owner_org, owner_user, date_added, raw"
)


def _objects_table(name: str, unique: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=300), nullable=False),
        sa.Column(
            "modified", sa.String(length=27), nullable=False, comment="version key, fixed-width UTC"
        ),
        sa.Column("type", sa.String(length=250), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("created_by_ref", sa.String(length=300), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("tlp", sa.SmallInteger(), nullable=False, comment="accord.model.tlp.Tlp"),
        sa.Column(
            "owner_org", sa.String(length=64), nullable=False, comment="organisation that stored it"
        ),
        sa.Column("owner_user", sa.String(length=36), nullable=True),
        sa.Column("date_added", sa.String(length=27), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False, comment="the object's JSON as received"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint(*unique, name="uq_objects_version"),
    )


def _rebuild_sqlite(unique: tuple[str, ...]) -> None:
    """SQLite cannot drop a table constraint: the table is copied into a new one. The
    tables that refer to ``objects`` name it by name; with foreign keys off (accord.store.
    migrate.upgrade) and ``legacy_alter_table`` the renames leave those references alone, so
    they point at the new table once it takes the name."""
    op.execute("PRAGMA legacy_alter_table=ON")
    op.execute("ALTER TABLE objects RENAME TO objects_before_0008")
    _objects_table("objects", unique)
    op.execute(f"INSERT INTO objects ({_COLUMNS}) SELECT {_COLUMNS} FROM objects_before_0008")
    op.execute("DROP TABLE objects_before_0008")
    op.execute("PRAGMA legacy_alter_table=OFF")
    for name, columns in _INDEXES:
        op.create_index(name, "objects", list(columns), unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(("id", "modified", "owner_org"))
        return
    op.drop_constraint("uq_objects_version", "objects", type_="unique")
    op.create_unique_constraint("uq_objects_version", "objects", ["id", "modified", "owner_org"])


def downgrade() -> None:
    # Fails where two organisations hold the same version, as it must: one would be lost.
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(("id", "modified"))
        return
    op.drop_constraint("uq_objects_version", "objects", type_="unique")
    op.create_unique_constraint("uq_objects_version", "objects", ["id", "modified"])
