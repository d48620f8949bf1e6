"""Fast bulk writes and version look-ups, one implementation per database.

PostgreSQL gets COPY and array parameters (an ``IN`` list of thousands of bind parameters
is slow to build client-side and, once psycopg prepares it, planned without hashing);
SQLite gets ``executemany``, which its C driver runs without building SQL per row.
Sequence numbers are allocated up front so that no per-row RETURNING is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from accord.model.extension import ACCORD_IDENTITY_ID
from accord.store.prepared import SEPARATOR
from accord.store.schema import objects

PG_CHUNK = 10_000  # ids per array parameter


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def stored_versions(
    conn: Connection, ids: Sequence[str], owner_org: str
) -> dict[str, dict[str, bool]]:
    """For each id that ``owner_org`` holds versions of: ``{modified: is_latest}``
    (accord.model.holdings: each organisation's holding is its own)."""
    found: dict[str, dict[str, bool]] = {}
    if is_postgres(conn) and not any(SEPARATOR in i for i in ids):
        # One text parameter split by the server: psycopg would build an array literal from a
        # Python list element by element, which costs more than the query.
        stmt = text(
            "SELECT o.id, o.modified, o.is_latest FROM objects o "
            "JOIN unnest(string_to_array(:ids, :sep)) AS wanted(id) ON o.id = wanted.id "
            "WHERE o.owner_org = :org"
        )
        chunks = [
            {"ids": SEPARATOR.join(ids[i : i + PG_CHUNK]), "sep": SEPARATOR, "org": owner_org}
            for i in range(0, len(ids), PG_CHUNK)
        ]
        rows = (row for chunk in chunks for row in conn.execute(stmt, chunk))
    elif is_postgres(conn):
        stmt = text(
            "SELECT o.id, o.modified, o.is_latest FROM objects o "
            "JOIN unnest(CAST(:ids AS text[])) AS wanted(id) ON o.id = wanted.id "
            "WHERE o.owner_org = :org"
        )
        arrays = [
            {"ids": list(ids[i : i + PG_CHUNK]), "org": owner_org}
            for i in range(0, len(ids), PG_CHUNK)
        ]
        rows = (row for chunk in arrays for row in conn.execute(stmt, chunk))
    else:
        # One JSON array parameter instead of thousands of bind parameters.
        # The ids drive the join, through the version key's index: the organisation is a
        # filter (unary +), or SQLite would read every version the organisation holds.
        stmt = text(
            "SELECT o.id, o.modified, o.is_latest FROM json_each(:ids) AS wanted "
            "CROSS JOIN objects o ON o.id = wanted.value WHERE +o.owner_org = :org"
        )
        params = {"ids": orjson.dumps(list(ids)).decode(), "org": owner_org}
        rows = (row for row in conn.execute(stmt, params))
    for row in rows:
        found.setdefault(row[0], {})[row[1]] = bool(row[2])
    return found


def count_stored(
    conn: Connection, keys: Sequence[tuple[str, str]], owner_org: str
) -> tuple[int, int]:
    """How many of these ``(id, modified)`` versions ``owner_org`` (or the node itself, which
    publishes the TLP marking definitions) holds already, and how
    many stored versions of any holder share an id with them: two numbers back, however
    large the bundle, so that "all duplicates" and "all new" cost one indexed join."""
    if not keys:
        return 0, 0
    if is_postgres(conn):
        stmt = text(
            "SELECT count(*) FILTER (WHERE o.modified = wanted.modified "
            "AND o.owner_org IN (:org, :node)), count(*) FROM unnest(string_to_array(:ids, :sep), "
            "string_to_array(:mods, :sep)) AS wanted(id, modified) "
            "JOIN objects o ON o.id = wanted.id"
        )
        if any(SEPARATOR in k[0] for k in keys):
            return -1, -1  # cannot be sent this way; the caller takes the long road
        params = {
            "ids": SEPARATOR.join(k[0] for k in keys),
            "mods": SEPARATOR.join(k[1] for k in keys),
            "sep": SEPARATOR,
            "org": owner_org,
            "node": ACCORD_IDENTITY_ID,
        }
    else:
        stmt = text(
            "SELECT coalesce(sum(o.modified = json_extract(wanted.value, '$[1]') "
            "AND o.owner_org IN (:org, :node)), 0), count(*) FROM json_each(:keys) AS wanted "
            "CROSS JOIN objects o ON o.id = json_extract(wanted.value, '$[0]')"
        )
        params = {"keys": orjson.dumps(keys).decode(), "org": owner_org, "node": ACCORD_IDENTITY_ID}
    own, anyone = conn.execute(stmt, params).one()
    return int(own or 0), int(anyone)


def allocate_seqs(conn: Connection, count: int) -> list[int]:
    """Reserve ``count`` object sequence numbers for rows about to be inserted.

    SQLite has one writer at a time (the transaction began IMMEDIATE), so the next numbers
    after the largest are free; PostgreSQL hands them out from the column's sequence. Called
    only by :func:`accord.store.objects.write_versions`, inside the write lock.
    """
    if not is_postgres(conn):
        current = conn.execute(select(func.coalesce(func.max(objects.c.seq), 0))).scalar_one()
        return list(range(int(current) + 1, int(current) + 1 + count))
    # Object writers hold the store's advisory lock (accord.store.objects.WRITE_LOCK), so
    # the range after one nextval is ours: moving the sequence past it reserves it in two
    # statements instead of fetching a row per number.
    first = int(
        conn.execute(text("SELECT nextval(pg_get_serial_sequence('objects', 'seq'))")).scalar_one()
    )
    if count > 1:
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('objects', 'seq'), :last)"),
            {"last": first + count - 1},
        )
    return list(range(first, first + count))


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert many rows (tuples in ``columns`` order): COPY on PostgreSQL, the DB-API's
    executemany on SQLite (SQLAlchemy's per-row parameter handling would cost more than
    SQLite's own work here)."""
    if not rows:
        return
    names = ", ".join(columns)
    driver = conn.connection.driver_connection
    assert driver is not None
    if not is_postgres(conn):
        marks = ", ".join("?" * len(columns))
        driver.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
        return
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_missing(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows whose primary key is not there yet; leave the others alone."""
    if not rows:
        return
    if is_postgres(conn):
        conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    else:
        conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
