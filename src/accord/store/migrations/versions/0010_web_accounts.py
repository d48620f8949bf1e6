"""The portal's sign-in: passwords, TOTP, preferences and server-side sessions (issue 17)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:15:00

Users had API keys only; the web portal signs people in with a password (Argon2id), an
optional TOTP second factor (required where their organisation says so), and keeps each
session as a row so that it can be revoked and expires.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column("require_totp", sa.Boolean(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text(), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "totp_last_step",
                sa.Integer(),
                nullable=True,
                comment="the last TOTP time step used (no replay)",
            )
        )
        batch.add_column(
            sa.Column(
                "locale",
                sa.String(length=16),
                nullable=True,
                comment="the portal's language (en, es); null: the browser's",
            )
        )
        batch.add_column(
            sa.Column(
                "time_zone", sa.String(length=64), nullable=True, comment="IANA name; null: UTC"
            )
        )
    op.create_table(
        "web_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column(
            "csrf",
            sa.String(length=64),
            nullable=False,
            comment="the token every form and htmx request sends",
        ),
        sa.Column("created", sa.String(length=27), nullable=False),
        sa.Column("last_seen", sa.String(length=27), nullable=False),
        sa.Column(
            "expires",
            sa.String(length=27),
            nullable=False,
            comment="absolute end, whatever the activity",
        ),
        sa.Column("second_factor", sa.Boolean(), nullable=False, comment="TOTP checked"),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("users") as batch:
        for name in ("time_zone", "locale", "totp_last_step", "totp_secret", "password_hash"):
            batch.drop_column(name)
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("require_totp")
