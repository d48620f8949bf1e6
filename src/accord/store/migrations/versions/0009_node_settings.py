"""Node settings that change answers live with the node (issue 15)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:30:00

The warninglists a node leaves out, its correlation cap and its default TLP were read from each
process's own variables, so the command line and the server of one node could answer the same
look-up differently. They are kept in the database now (`accord settings`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("node_settings")
