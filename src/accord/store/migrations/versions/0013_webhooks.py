"""Webhooks per organisation, and the log of their last attempts (issue 18)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 05:00:00

An organisation's webhook receives, signed, the versions its creating user may see, as they
are stored (docs/webhooks.md); its cursor is a position in ``objects.seq``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column(
            "user_id", sa.String(length=36), nullable=False, comment="whose view it delivers"
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False, comment="JSON: types, tlps, labels"),
        sa.Column("created", sa.String(length=27), nullable=False),
        sa.Column("cursor", SEQ, nullable=False, comment="objects.seq delivered up to"),
        sa.Column("last_success", sa.String(length=27), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "failures", sa.Integer(), nullable=False, comment="in a row, since the last success"
        ),
        sa.Column(
            "next_attempt", sa.String(length=27), nullable=True, comment="null: at the next round"
        ),
        sa.Column(
            "claimed_until",
            sa.String(length=27),
            nullable=True,
            comment="a round holds the webhook until then",
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index("ix_webhooks_org_id", ["org_id"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.String(length=27), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="events or ping"),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_seq", SEQ, nullable=True, comment="objects.seq of its last event"),
        sa.Column("status", sa.Integer(), nullable=True, comment="HTTP status; null: no answer"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("milliseconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_hook", ["webhook_id", "seq"], unique=False)


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
