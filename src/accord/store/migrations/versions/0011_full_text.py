"""Browsing and full-text search: the labels of each version, and the full-text index (issue 17)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 00:10:00

The portal's search page (and ``GET /api/v1/objects?q=``) finds objects by the words of
their names and descriptions and filters them by label. The full-text index is each
backend's own (an FTS5 table on SQLite, tsvectors under a GIN index on PostgreSQL:
`accord.store.dialects`), outside the SQLAlchemy metadata; both are filled here from the
versions already stored, the way ingest fills them (`accord.model.search_text`).
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

from accord.model.search_text import labels_of, searchable_text
from accord.store.dialects import backend_for

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 2000  # versions read and indexed at a time


def upgrade() -> None:
    op.create_table(
        "object_labels",
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
            comment="objects.seq (derived rows: no FK check)",
        ),
        sa.PrimaryKeyConstraint("label", "seq"),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    backend = backend_for(conn)
    backend.create_text_index(conn)
    labels = sa.Table("object_labels", sa.MetaData(), sa.Column("label"), sa.Column("seq"))
    read = sa.text("SELECT seq, raw FROM objects WHERE seq > :after ORDER BY seq LIMIT :n")
    after = 0
    while rows := conn.execute(read, {"after": after, "n": BATCH}).all():
        texts: list[tuple[int, str]] = []
        found: list[tuple[str, int]] = []
        for seq, raw in rows:
            obj = orjson.loads(raw)
            if not isinstance(obj, dict):
                continue
            if body := searchable_text(obj):
                texts.append((seq, body))
            found.extend((label, seq) for label in labels_of(obj))
        backend.index_text(conn, texts)
        backend.bulk_insert(conn, labels, ("label", "seq"), found)
        after = rows[-1][0]


def downgrade() -> None:
    backend_for(op.get_bind()).drop_text_index(op.get_bind())
    op.drop_table("object_labels")
