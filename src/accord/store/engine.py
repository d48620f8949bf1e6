"""Opening a database by URL: SQLite (WAL) by default, PostgreSQL in production. What each
database needs at opening is its backend's (`accord.store.dialects`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from accord.store.dialects import backend_for_url
from accord.store.dialects.base import GENERIC_PLANS, WRITE
from accord.store.engine_state import attach, committed, engine_state

__all__ = [
    "DEFAULT_URL",
    "GENERIC_PLANS",
    "WRITE",
    "close_engine",
    "connection_lost",
    "open_engine",
    "shared_across_processes",
    "write_transaction",
]

DEFAULT_URL = "sqlite:///var/accord.db"


def open_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL and their parent folder is created. The
    engine carries its background work (`accord.store.engine_state`), set here only."""
    parsed = make_url(url)
    backend = backend_for_url(parsed)
    engine = backend.open_engine(parsed)
    attach(engine, backend.engine_state(engine, parsed))
    return engine


def shared_across_processes(url: str) -> bool:
    """Whether a second process that opens ``url`` reaches the same database (not so for an
    in-memory SQLite database)."""
    parsed = make_url(url)
    return backend_for_url(parsed).shared_across_processes(parsed)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write: committed at the end of the block,
    rolled back on an exception."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn
    committed(engine)


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
    engine_state(engine).close()
    engine.dispose()
