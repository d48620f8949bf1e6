"""Alembic's env script: runs on the connection that ``accord.store.migrate`` hands in."""

from __future__ import annotations

from alembic import context

from accord.store.dialects import backend_for
from accord.store.schema import in_metadata, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    include_name=in_metadata,  # not the full-text index, which each backend makes itself
    render_as_batch=backend_for(connection).migrates_by_copy,
)
with context.begin_transaction():
    context.run_migrations()
