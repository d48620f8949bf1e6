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


def lookup_connection(engine: Engine) -> Connection:
    """A connection to keep for single look-ups (the held connection), set up for them by the
    backend (`accord.store.dialects.base.Backend.for_lookups`: on PostgreSQL autocommit and
    generic plans). Close it with `release_lookup_connection`, which discards it: its session
    settings must not reach the pool."""
    return backend_for(engine).for_lookups(engine.connect())


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

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
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
            conn = self._connection() if hold else self._engine.connect()
            try:
                yield conn
            finally:
                if self._held.get(threading.get_ident()) is not conn:
                    conn.close()
                elif conn.in_transaction() and not connection_lost(conn):  # a failed look-up
                    conn.rollback()

    def lost(self, conn: Connection) -> bool:
        """After a failed look-up: whether it failed because ``conn``, a held connection, is
        gone (the next session takes a new one: the look-up may be tried once more)."""
        return self._held.get(threading.get_ident()) is conn and connection_lost(conn)

    def close(self) -> None:
        """Give the held connections back (the server is stopping)."""
        held, self._held = self._held, {}
        for conn in held.values():
            release_lookup_connection(conn)

    def _connection(self) -> Connection:
        thread = threading.get_ident()
        held = self._held.get(thread)
        if held is not None:
            if not connection_lost(held):
                return held
            del self._held[thread]  # the database restarted, say: start over with a new one
            release_lookup_connection(held)
        elif len(self._held) >= MOST_HELD:  # a thread beyond those expected
            return self._engine.connect()
        conn = lookup_connection(self._engine)
        self._held[thread] = conn
        weakref.finalize(self, release_lookup_connection, conn)  # even without close()
        return conn
