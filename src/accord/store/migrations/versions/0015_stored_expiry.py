"""Indicators' expiry stored, and a mark for changes made without a version (issue 21)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:00:00

`objects.valid_until` keeps an indicator version's valid_until (timestamp key), with an index
over the latest versions that have one, so that the decay job finds what expired by time;
existing rows are filled in from their JSON. `objects.changed_seq` is the number the job (and
a TAXII DELETE that makes an older version latest again) gives a latest version whose meaning
changed without a version being written (docs/jobs.md). The job starts from now: what expired
before the upgrade was already read as expired, and a first run does not mark it all at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from alembic import op

from accord.model.timestamps import timestamp_key

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 10_000

_objects = sa.table(
    "objects",
    sa.column("seq", SEQ),
    sa.column("type", sa.String()),
    sa.column("raw", sa.Text()),
    sa.column("valid_until", sa.String()),
)


def upgrade() -> None:
    op.add_column("objects", sa.Column("valid_until", sa.String(length=27), nullable=True))
    op.add_column("objects", sa.Column("changed_seq", SEQ, nullable=True))
    _fill_valid_until()
    # Partial: only the latest versions that expire, only the marked ones.
    for name, column, where in (
        ("ix_objects_valid_until", "valid_until", "is_latest AND valid_until IS NOT NULL"),
        ("ix_objects_changed_seq", "changed_seq", "changed_seq IS NOT NULL"),
    ):
        condition = sa.text(where)
        op.create_index(
            name, "objects", [column], sqlite_where=condition, postgresql_where=condition
        )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    op.execute(
        sa.text(
            "INSERT INTO node_settings (name, value) VALUES ('decay.watermark', :now)"
        ).bindparams(now=now)
    )


def _fill_valid_until() -> None:
    """From the JSON of the indicator versions that name one (read in pages by seq)."""
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(
            sa.select(_objects.c.seq, _objects.c.raw)
            .where(_objects.c.type == "indicator")
            .where(_objects.c.raw.like('%"valid_until"%'))
            .where(_objects.c.seq > after)
            .order_by(_objects.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        found = []
        for seq, raw in rows:
            stamp = orjson.loads(raw).get("valid_until")
            if isinstance(stamp, str):
                try:
                    found.append({"s": seq, "v": timestamp_key(stamp)})
                except ValueError:
                    continue
        if found:
            bind.execute(
                sa.update(_objects)
                .where(_objects.c.seq == sa.bindparam("s"))
                .values(valid_until=sa.bindparam("v")),
                found,
            )
        after = rows[-1].seq


def downgrade() -> None:
    op.execute("DELETE FROM node_settings WHERE name = 'decay.watermark'")
    op.drop_index("ix_objects_changed_seq", table_name="objects")
    op.drop_index("ix_objects_valid_until", table_name="objects")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later): no rebuild of objects.
    op.drop_column("objects", "changed_seq")
    op.drop_column("objects", "valid_until")
