"""Federation: peers, their cursors, provenance of received versions (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:00:00

A node exchanges with peer nodes over TAXII 2.1 (docs/federation.md). Each stored version
records the peer it came from (``objects.origin_node``), organisations record the node that
hosts them (``organisations.home_node``, null for this node's own), and each peer's pull and
push cursors are kept per collection.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): SQLite does not copy the table for it.
    op.add_column("objects", sa.Column("origin_node", sa.String(length=300), nullable=True))
    op.add_column("organisations", sa.Column("home_node", sa.String(length=300), nullable=True))
    op.create_table(
        "peers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "url",
            sa.Text(),
            nullable=True,
            comment="the peer's TAXII API root; null: it only pushes to us",
        ),
        sa.Column(
            "collection",
            sa.String(length=300),
            nullable=False,
            comment="its collection we read/write",
        ),
        sa.Column("secret", sa.Text(), nullable=True, comment="the API key we present to the peer"),
        sa.Column(
            "ca_file",
            sa.Text(),
            nullable=True,
            comment="CA certificates that verify the peer's TLS certificate",
        ),
        sa.Column("pull", sa.Boolean(), nullable=False),
        sa.Column("push", sa.Boolean(), nullable=False),
        sa.Column("community", sa.Boolean(), nullable=False, comment="GREEN crosses to it"),
        sa.Column("node_id", sa.String(length=300), nullable=False, comment="its STIX identity"),
        sa.Column("operator_org", sa.String(length=64), nullable=False, comment="organisations.id"),
        sa.Column("hosted_orgs", sa.Text(), nullable=False, comment="JSON: identity ids it hosts"),
        sa.Column(
            "interval",
            sa.Integer(),
            nullable=True,
            comment="seconds between scheduled runs; null: by hand",
        ),
        sa.Column("created", sa.String(length=27), nullable=False),
        sa.Column(
            "last_pull",
            sa.String(length=27),
            nullable=True,
            comment="the last pull that ended without error",
        ),
        sa.Column("last_pull_error", sa.Text(), nullable=True),
        sa.Column("last_push", sa.String(length=27), nullable=True),
        sa.Column("last_push_error", sa.Text(), nullable=True),
        sa.Column("last_attempt", sa.String(length=27), nullable=True),
        sa.Column(
            "claimed_until",
            sa.String(length=27),
            nullable=True,
            comment="a run holds the peer until then",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("node_id"),
    )
    op.create_table(
        "peer_cursors",
        sa.Column("peer_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False, comment="pull or push"),
        sa.Column("collection", sa.String(length=300), nullable=False),
        sa.Column("cursor", sa.String(length=40), nullable=False),
        sa.Column("updated", sa.String(length=27), nullable=False),
        sa.ForeignKeyConstraint(["peer_id"], ["peers.id"]),
        sa.PrimaryKeyConstraint("peer_id", "direction", "collection"),
    )


def downgrade() -> None:
    op.drop_table("peer_cursors")
    op.drop_table("peers")
    op.drop_column("organisations", "home_node")
    op.drop_column("objects", "origin_node")
