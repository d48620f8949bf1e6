"""Opening a database by URL: SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from accord.store import checkpoint, statistics

DEFAULT_URL = "sqlite:///var/accord.db"
# SQLite's page size for new stores. Every look-up commits its audit entry, which dirties one
# page of the audit table and one of each of its two indexes: with 4 KiB pages that commit
# writes 12 KiB to the log instead of 48 KiB (measured: 37 against 82 microseconds per
# audited commit; a look-up's median over HTTP 3-4% lower on the 1,000,000-indicator
# benchmark). Large objects (ATT&CK's) spill into more overflow pages: storing ATT&CK
# Enterprise takes about 6% longer than with 16 KiB pages, which stores made before keep.
PAGE_SIZE = 4096


def open_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL and their parent folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # LIFO: a burst that opened a second pooled connection must not leave single look-ups
        # alternating between two connections, each with a colder page cache.
        engine = create_engine(url, connect_args={"timeout": 30}, pool_use_lifo=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take control so that a bundle
        # is one real transaction (https://docs.sqlalchemy.org/en/20/dialects/sqlite.html).
        # Writers take the write lock up front (IMMEDIATE), so that two writers queue on
        # busy_timeout instead of failing when a read lock cannot be upgraded.
        event.listen(engine, "begin", _sqlite_begin)
        if database and database != ":memory:":
            checkpoint.attach(engine, database)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":
        statistics.attach(engine)  # fresh planner statistics after large writes
    return engine


WRITE = "accord_write"


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write: committed at the end of the block,
    rolled back on an exception."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn
    checkpoint.committed(engine)


def connection_lost(conn: Connection) -> bool:
    """Whether ``conn`` can no longer be used: closed, or its database connection broken (a
    PostgreSQL server restarted, say). Statements run on the driver's cursor bypass
    SQLAlchemy's own disconnect detection, so the driver is asked."""
    if conn.closed or conn.invalidated:
        return True
    driver = conn.connection.driver_connection
    return bool(getattr(driver, "broken", False) or getattr(driver, "closed", False))


def close_engine(engine: Engine) -> None:
    """Stop the engine's background work and close its connections."""
    checkpoint.detach(engine)
    engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    assert isinstance(dbapi_connection, sqlite3.Connection)
    dbapi_connection.isolation_level = None  # BEGIN is issued by the "begin" listener
    cursor = dbapi_connection.cursor()
    # Takes effect only when the database file is created (older stores keep their 16 KiB).
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    # WAL lets readers go on while one writer writes; NORMAL is durable at each checkpoint.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    # Reads straight from the mapped file instead of copying each page (look-ups read many
    # index pages); writes still go through the WAL.
    cursor.execute("PRAGMA mmap_size=1073741824")
    # Checkpoints run on a background thread (accord.store.checkpoint); a commit checkpoints
    # only when the log has grown far beyond what that thread keeps it at.
    cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint.BACKSTOP_BYTES // PAGE_SIZE}")
    # After a complete checkpoint, the next writer cuts the log file back to this size, so
    # that the file's size tells the checkpointer how much the log holds.
    cursor.execute(f"PRAGMA journal_size_limit={checkpoint.KEEP_BYTES}")
    cursor.close()


def pg_lock_sql(key: int) -> str:
    """The statement that takes PostgreSQL transaction advisory lock ``key`` for the
    connection's current schema. Advisory locks belong to the database, not to a schema: with
    the schema's name in the lock, nodes (or test workers) that share one database in
    separate schemas do not queue behind each other's writes. (The function is strict: a NULL
    schema would take no lock at all, hence the coalesce.)"""
    return f"SELECT pg_advisory_xact_lock({int(key)}, hashtext(coalesce(current_schema(), '')))"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
