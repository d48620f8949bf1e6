"""PostgreSQL: the words of new versions indexed on a background thread, off the writer's path.

Making a version's tsvector and adding it to the GIN index costs the server about a quarter
of an ingest (ATT&CK Enterprise, measured: about 0.5 of 2.0 seconds), where SQLite's FTS5
insert costs under a tenth and stays in the write. So on PostgreSQL a write only copies each
version's text into ``object_text_pending`` (COPY, a few per cent), and a daemon thread per
engine (its `accord.store.engine_state.EngineState` holds the `TextIndexer`), woken after a
commit that wrote text (`accord.store.engine_state.committed`), moves the pending rows into
``object_text`` in batches, each batch in a transaction of its own (the rows picked and
locked, then ``DELETE ... RETURNING`` feeding the ``INSERT``), so that any reader finds a row
in exactly one of the two tables. Processes share the work: a batch skips the rows another
one holds (``FOR UPDATE SKIP LOCKED``).

A search never waits for it: it reads ``object_text`` through the GIN index, and makes the
tsvectors of the pending rows (few, unless a bulk load has just committed) as it reads them
(`accord.store.dialects.postgresql`), so a version is found as soon as it is committed.

Closing the store indexes what this process left pending, so a command-line ingest leaves
nothing behind; rows a process left when it was killed are moved at the next wake of any
process. After a drain that moved many rows, the pending table is vacuumed (a search reads
it whole: the pages its deleted rows leave would otherwise stay until autovacuum, or for
ever where it is off) and the index table analysed when it grew by a tenth (the rule of
`accord.store.statistics`).

The statements are the backend's (`accord.store.dialects.postgresql`), handed in: this
module knows when to run them, not how they read.
"""

from __future__ import annotations

import contextlib
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

BATCH = 2000  # pending rows moved per transaction
# A drain that moved at least this many rows, and more than this share of the index table as
# the planner last saw it, analyses the table.
MIN_ROWS = 1000
FRACTION = 0.1


class TextIndexer:
    """Moves one PostgreSQL database's pending text into its full-text index."""

    def __init__(
        self, engine: Engine, pick: str, move: str, tidy: str, size: str, analyse: str
    ) -> None:
        """``pick``: the statement that locks at most ``%(batch)s`` pending rows and answers
        their keys; ``move``: the one that indexes the pending rows of keys ``%(seqs)s``;
        ``tidy``: the one that vacuums the pending table; ``size``: the planner's row count
        of the index table; ``analyse``: the one that analyses it."""
        self._engine = engine
        self._pick = pick
        self._move = move
        self._tidy = tidy
        self._size = size
        self._analyse = analyse
        self._due = False  # this process wrote text since the last wake
        self._wrote = False  # this process ever wrote text (closing then drains)
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.moved = 0  # rows moved (tests and diagnostics)

    def wrote(self) -> None:
        """A transaction of this process wrote pending text (it may yet roll back)."""
        self._due = self._wrote = True

    def poke(self) -> None:
        """A write transaction committed: wake the thread if it wrote text."""
        if not self._due:
            return
        self._due = False
        with self._lock:
            if self._stop:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="accord-text-index", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def drain(self) -> int:
        """Index every pending row now, in the caller's thread; answers how many moved."""
        total = 0
        while True:
            with self._engine.begin() as conn:
                seqs = [row[0] for row in conn.exec_driver_sql(self._pick, {"batch": BATCH})]
                if seqs:
                    conn.exec_driver_sql(self._move, {"seqs": seqs})
            moved = len(seqs)
            total += moved
            if moved < BATCH:
                break
        self.moved += total
        if total >= MIN_ROWS:
            # VACUUM runs outside a transaction.
            with self._engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(self._tidy)
                known = float(conn.exec_driver_sql(self._size).scalar() or -1)
                if known < 0 or total > FRACTION * known:
                    conn.exec_driver_sql(self._analyse)
        return total

    def close(self) -> None:
        """Stop the thread (a batch in progress ends first), then index what this process
        left pending."""
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
        if self._wrote:
            with contextlib.suppress(SQLAlchemyError):  # the database is gone: the next wake
                self.drain()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                return
            # The database may be restarting: the next wake, or closing the store, retries.
            with contextlib.suppress(SQLAlchemyError):
                self.drain()
