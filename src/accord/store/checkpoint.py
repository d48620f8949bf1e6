"""SQLite WAL checkpoints on a background thread instead of inside a writer's commit.

By default SQLite checkpoints in the connection that commits once the write-ahead log passes
1,000 pages: the commit of a large bundle then also copies the whole log into the database
file and syncs it, a serial tail of a third of a second for ATT&CK Enterprise on this
machine's disk. SQLite's documentation suggests the alternative used here
(https://www.sqlite.org/wal.html#application_initiated_checkpoints): the store's own
connections only checkpoint as a backstop for a very large log, and a daemon thread per
engine (its `accord.store.engine_state.EngineState` holds the `WalCheckpointer`) runs a
PASSIVE checkpoint on its own connection after a commit has grown the log. A PASSIVE
checkpoint never blocks readers or writers, and the checkpoint call releases the GIL, so the
thread runs beside the next request or bundle.

Under a steady stream of commits (every audited look-up commits) a passive checkpoint never
catches up with the newest frame, so SQLite never starts the log over: it grew without end,
and each commit found it large and woke another checkpoint with its syncs. So a wake that
leaves the log as large is not repeated until the log has grown by ``WAKE_BYTES`` again; and
once the log file passes ``RESTART_BYTES``, the passive pass is followed by a TRUNCATE
checkpoint, which copies the few frames left, waits a moment for readers
(``RESTART_WAIT_MS``) and empties the log. It needs the write lock, which a writer that
commits again at once would always take first: the store's writers wait in `poke` while it
runs (once per ``RESTART_BYTES`` of log).

Nothing is less durable for it: with ``synchronous=NORMAL`` a commit in WAL mode is made
durable by a checkpoint's sync whoever runs it, and closing the last connection (``Store.close``)
checkpoints whatever is left.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading

BACKSTOP_BYTES = 1 << 30  # wal_autocheckpoint on the store's connections, in bytes of log
WAKE_BYTES = 4 << 20  # checkpoint once the log holds this much
# The size a log file is cut back to when a writer starts it over after a complete checkpoint
# (``journal_size_limit``, set on the store's connections: the writers). SQLite otherwise
# keeps the file at its largest and writes over it from the start, so its size would stay past
# WAKE_BYTES after the first checkpoint and every commit (every audited look-up) would wake a
# checkpoint and its sync.
KEEP_BYTES = 1 << 20
RESTART_BYTES = 16 << 20  # the log size from which a checkpoint also starts the log over
# How long the TRUNCATE step may wait for the write lock (other processes' writers) and for
# readers of the log; if the log stays busy that long, a later wake tries again. This
# process's writers wait for it in `poke`, at most YIELD_SECONDS.
RESTART_WAIT_MS = 50
YIELD_SECONDS = 1.0
# A small commit (an audited look-up's entry: a few pages) looks at the log's size only once
# in this many: a stat is a system call, and each look-up commits.
SMALL_COMMITS_PER_LOOK = 16


class WalCheckpointer:
    """Checkpoints one SQLite database file's log whenever :meth:`poke` finds it large."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._wal = f"{path}-wal"
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._due = 0  # the log size that earns the next wake (see `poke`)
        self._small = 0  # small commits seen
        self._idle = threading.Event()  # clear while a TRUNCATE checkpoint waits or runs
        self._idle.set()
        self.runs = 0  # checkpoints started (tests and diagnostics)

    def poke(self, small: bool = False) -> None:
        """After a commit: wake the thread if the log has grown past ``WAKE_BYTES``, and by
        ``WAKE_BYTES`` since the last wake if that one could not start the log over (a long
        reader holds it: a checkpoint per commit would only add syncs). Waits first for a
        TRUNCATE checkpoint in progress, which needs the write lock this writer would take
        again at once. ``small``: the commit wrote a few pages (see SMALL_COMMITS_PER_LOOK)."""
        if not self._idle.is_set():
            self._idle.wait(YIELD_SECONDS)
        if small:
            self._small += 1
            if self._small % SMALL_COMMITS_PER_LOOK:
                return
        size = _size(self._wal)
        if size < WAKE_BYTES:
            self._due = 0
            return
        if size < self._due:
            return
        self._due = size + WAKE_BYTES
        with self._lock:
            if self._stop:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="accord-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop the thread, waiting for a checkpoint in progress to end."""
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        self._idle.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=RESTART_WAIT_MS / 1000, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                # Busy or gone: the next poke, or closing the store, checkpoints.
                self.runs += 1
                with contextlib.suppress(sqlite3.Error):
                    # The copying, beside readers and writers; then, for a log that
                    # commits made meanwhile keep from starting over (the pass copies the
                    # frames there were when it began), the short blocking step.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    if _size(self._wal) >= RESTART_BYTES:
                        self._idle.clear()
                        try:
                            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                        finally:
                            self._idle.set()
        finally:
            conn.close()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
