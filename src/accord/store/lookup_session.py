"""The connections look-ups run on, and what a look-up session does around them.

A single look-up on the API runs on the event loop's thread, or on one of a few look-up
threads while other look-ups are in flight (`accord.api.lookup_threads`). Each of those
threads keeps one connection checked out between look-ups (its held connection), which saves
a pool checkout and check-in each time, and on PostgreSQL the liveness ping, the
transaction's BEGIN and COMMIT and a setting per search: over a quarter of a look-up there.
It is left with no transaction open after each look-up (a read transaction kept open would
keep the SQLite log from being checkpointed, and later look-ups would read an old snapshot).
Beyond `MOST_HELD` threads, a look-up gets a pooled connection, closed at the end.

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


MOST_HELD = 8  # threads that may keep a connection: the event loop's and the look-up threads


class LookupSessions:
    """The look-up sessions of one store: it keeps the held connections, one per thread that
    runs single look-ups (the event loop's, and the few look-up threads of
    `accord.api.lookup_threads`)."""

    def __init__(self, reads: ReadReplicas) -> None:
        self._reads = reads
        self._held: dict[int, Connection] = {}

    @property
    def held(self) -> Connection | None:
        """The connection kept for single look-ups (the first thread's), if one is."""
        return next(iter(list(self._held.values())), None)

    @contextmanager
    def session(self, *, hold: bool = False, pause_collector: bool = False) -> Iterator[Connection]:
        """A connection for a look-up. ``hold``: a single look-up, on the calling thread's
        held connection (taken the first time, and anew if it was lost); it is left with no
        transaction open. ``pause_collector``: a bulk look-up, with the garbage collector
        paused until the session ends."""
        with collector_paused() if pause_collector else nullcontext():
            conn = self._connection() if hold else self._reads.connect()
            try:
                yield conn
            finally:
                if self._held.get(threading.get_ident()) is not conn:
                    conn.close()
                elif conn.in_transaction() and not connection_lost(conn):  # a failed look-up
                    conn.rollback()

    def lost(self, conn: Connection) -> bool:
        """After a failed look-up: whether it failed because ``conn``, a held connection, is
        gone (the next session takes a new one: the look-up may be tried once more). A
        replica's connection lost marks the replica unusable (`ReadReplicas.failed`)."""
        gone = self._held.get(threading.get_ident()) is conn and connection_lost(conn)
        if gone and self._reads.is_replica(conn.engine):
            self._reads.failed(conn.engine)
        return gone

    def close(self) -> None:
        """Give the held connections back (the server is stopping)."""
        held, self._held = self._held, {}
        for conn in held.values():
            release_lookup_connection(conn)

    def _connection(self) -> Connection:
        thread = threading.get_ident()
        held = self._held.get(thread)
        if held is not None:
            if self._reads.in_use(held.engine) and not connection_lost(held):
                return held
            # The database restarted, say, or reads moved to another database: start over
            # with a new connection.
            del self._held[thread]
            release_lookup_connection(held)
        elif len(self._held) >= MOST_HELD:  # a thread beyond those expected
            return self._reads.connect()
        engine = self._reads.engine()
        if engine is self._reads.primary:
            conn = lookup_connection(engine)
        else:
            opened = self._reads.connect()  # the replica, or the next if it is unreachable
            conn = lookup_connection(opened.engine, opened)
        self._held[thread] = conn
        weakref.finalize(self, release_lookup_connection, conn)  # even without close()
        return conn
