"""The connections look-ups run on, and what a look-up session does around them.

A single look-up on the API runs inline on the event loop's thread, one at a time: there one
connection stays checked out between look-ups (the held connection), which saves a pool
checkout and check-in each time, and on PostgreSQL the liveness ping, the transaction's BEGIN
and COMMIT and a setting per search: over a quarter of a look-up there. It is left with no
transaction open after each look-up (a read transaction kept open would keep the SQLite log
from being checkpointed, and later look-ups would read an old snapshot). From another
thread, a look-up gets a pooled connection, closed at the end.

A bulk look-up pauses the garbage collector for as long as its answers live
(`accord.store.gc_pause`).

With read replicas (`accord.store.replicas`), look-ups read from a usable replica: each session
asks which, and the held connection is replaced when the answer changes (a replica went down
or fell behind: the primary; it came back: the replica). A held connection lost on a replica
marks that replica unusable, so that the look-up tried once more reads elsewhere.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Connection, Engine

from accord.store.dialects import backend_for
from accord.store.dialects.base import GENERIC_PLANS
from accord.store.engine import connection_lost
from accord.store.gc_pause import collector_paused
from accord.store.replicas import ReadReplicas


def lookup_connection(engine: Engine, connection: Connection | None = None) -> Connection:
    """A connection to keep for single look-ups (the held connection), set up for them by the
    backend (`accord.store.dialects.base.Backend.for_lookups`: on PostgreSQL autocommit and
    generic plans). Close it with `release_lookup_connection`, which discards it: its session
    settings must not reach the pool. ``connection``: one of ``engine``'s, already open."""
    return backend_for(engine).for_lookups(connection or engine.connect())


def release_lookup_connection(conn: Connection) -> None:
    if conn.closed:
        return
    if conn.info.pop(GENERIC_PLANS, False):
        conn.invalidate()  # closes the database connection instead of pooling it
    conn.close()


class LookupSessions:
    """The look-up sessions of one store: it keeps the held connection."""

    def __init__(self, reads: ReadReplicas) -> None:
        self._reads = reads
        self._held: tuple[int, Connection] | None = None

    @property
    def held(self) -> Connection | None:
        """The connection kept for single look-ups, if one is."""
        return None if self._held is None else self._held[1]

    @contextmanager
    def session(self, *, hold: bool = False, pause_collector: bool = False) -> Iterator[Connection]:
        """A connection for a look-up. ``hold``: a single look-up on the event loop's thread,
        on the held connection (taken the first time, and anew if it was lost); it is left
        with no transaction open. ``pause_collector``: a bulk look-up, with the garbage
        collector paused until the session ends."""
        with collector_paused() if pause_collector else nullcontext():
            conn = self._connection() if hold else self._reads.connect()
            try:
                yield conn
            finally:
                if conn is not self.held:
                    conn.close()
                elif conn.in_transaction() and not connection_lost(conn):  # a failed look-up
                    conn.rollback()

    def lost(self, conn: Connection) -> bool:
        """After a failed look-up: whether it failed because ``conn``, the held connection,
        is gone (the next session takes a new one: the look-up may be tried once more). A
        replica's connection lost marks the replica unusable (`ReadReplicas.failed`)."""
        gone = self._held is not None and conn is self._held[1] and connection_lost(conn)
        if gone and self._reads.is_replica(conn.engine):
            self._reads.failed(conn.engine)
        return gone

    def close(self) -> None:
        """Give the held connection back (the server is stopping)."""
        held, self._held = self._held, None
        if held is not None:
            release_lookup_connection(held[1])

    def _connection(self) -> Connection:
        thread = threading.get_ident()
        held = self._held
        if held is not None and held[0] == thread:
            if self._reads.in_use(held[1].engine) and not connection_lost(held[1]):
                return held[1]
            # The database restarted, say, or reads moved to another database: start over
            # with a new connection.
            self.close()
        elif held is not None:  # another thread's (a test's second event loop, say)
            return self._reads.connect()
        engine = self._reads.engine()
        if engine is self._reads.primary:
            conn = lookup_connection(engine)
        else:
            opened = self._reads.connect()  # the replica, or the next if it is unreachable
            conn = lookup_connection(opened.engine, opened)
        self._held = (thread, conn)
        weakref.finalize(self, release_lookup_connection, conn)  # even without close()
        return conn
