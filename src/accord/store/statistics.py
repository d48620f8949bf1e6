"""PostgreSQL: the planner's statistics refreshed by the writes that outgrow them.

PostgreSQL plans from statistics that ``ANALYZE`` gathers, and leaves running it to
autovacuum: a table is analysed once about a tenth of it has changed, some time after (up to
``autovacuum_naptime`` later, and behind the vacuums of every other database), and never
where autovacuum is off. Until then the planner takes a table that a bulk load filled for
the size it last saw: measured on the look-up benchmark with autovacuum off, the search's
generic plan read the whole observable index through a sequential scan and a hash join
(5.2 ms against 0.19 ms per search at 20,000 indicators; the issue measured 23 look-ups a
second instead of 1,494 at 250,000), until someone ran ``ANALYZE``.

So the store analyses the tables an object write grows, at one seam:
`accord.store.version_writer` (every write path stores object versions through it) counts
the versions a transaction writes (`StatisticsTracker.wrote`), and when the transaction
commits (an engine ``commit`` event, so every commit of a write, whichever writer holds it),
the tables are analysed if the versions written since the last analysis are at least
``MIN_ROWS`` and more than ``FRACTION`` of the objects table as the planner last saw it
(``pg_class.reltuples``; -1: never analysed) -- the rule autovacuum follows
(``autovacuum_analyze_scale_factor``, 0.1), with a larger floor.

The ``ANALYZE`` runs inside the committing transaction, just before its commit: it samples the
rows the transaction wrote (PostgreSQL counts its own transaction's rows as live), and the
new statistics become visible with the rows themselves, so no reader plans the new rows with
the old figures. It holds the store's write lock a moment longer (``ANALYZE`` samples at most
30,000 rows per table; the look-up benchmark's PostgreSQL load rate did not change measurably):
once per tenth of growth, after a bulk load, not per look-up or small write. Small writes add
up per engine (a process's pool); several processes each count their own. Autovacuum, where
it runs, goes on as before.

SQLite needs none of this: its statements say their plans themselves (`accord.store.plans`).
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine, event

# Versions written since the last analysis before one is considered, and the share of the
# objects table (as last analysed) they must exceed.
MIN_ROWS = 1000
FRACTION = 0.1

# The tables an object write grows (derived rows included).
TABLES = (
    "objects",
    "object_audience",
    "observables",
    "object_refs",
    "net_prefixes",
    "correlations",
    "correlation_hubs",
    "file_hashes",
    "fuzzy_hashes",
    "sighting_facts",
    "object_feeds",
    "object_labels",
)

_WRITTEN = "accord_versions_written"  # Connection.info: versions this transaction wrote


class StatisticsTracker:
    """Versions committed on one (PostgreSQL) engine since its last analysis; analyses the
    tables when they are enough. Built by the backend when the engine is opened, and kept in
    its `accord.store.engine_state.EngineState`."""

    def __init__(self, engine: Engine) -> None:
        self.rows = 0
        self.lock = threading.Lock()
        self.analyses = 0  # analyses run (tests and diagnostics)
        event.listen(engine, "commit", self._before_commit)
        event.listen(engine, "rollback", _forget)

    def wrote(self, conn: Connection, versions: int) -> None:
        """``versions`` object versions were written in ``conn``'s transaction."""
        conn.info[_WRITTEN] = conn.info.get(_WRITTEN, 0) + versions

    def _before_commit(self, conn: Connection) -> None:
        written = conn.info.pop(_WRITTEN, 0)
        if not written:
            return
        with self.lock:
            self.rows += written
            if self.rows < MIN_ROWS:
                return
            driver = conn.connection.driver_connection
            assert driver is not None
            row = driver.execute("SELECT reltuples FROM pg_class WHERE oid = 'objects'::regclass")
            found = row.fetchone()
            known = float(found[0]) if found is not None else -1.0
            if known >= 0 and self.rows <= FRACTION * known:
                return
            driver.execute(f"ANALYZE {', '.join(TABLES)}")
            self.rows = 0
            self.analyses += 1


def _forget(conn: Connection) -> None:
    conn.info.pop(_WRITTEN, None)
