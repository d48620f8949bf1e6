"""What is left of the bulk writes that moved behind the database backends
(`accord.store.dialects`), for `accord.store.correlations` until it asks its connection's
backend itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from accord.store.dialects import backend_for
from accord.store.dialects.postgresql import PostgreSQL


def is_postgres(conn: Connection) -> bool:
    return isinstance(backend_for(conn), PostgreSQL)


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    backend_for(conn).bulk_insert(conn, table, columns, rows)
