"""Group commit of look-ups' audit entries: look-ups that arrive together share one commit.

Every look-up's audit entry is evidence, committed durably (the WAL flushed) before its answer
is sent. On PostgreSQL that flush is most of a look-up's time, and on the event loop's thread
it would stop every other request of the process while it lasts. So a look-up hands its
events to this process's committer (`AuditGroup.submit`) and waits for the future it gets
back: one thread takes everything queued meanwhile, appends it chained in one transaction
under the audit log's write lock (`accord.store.audit.AuditLog.record`), commits once, and
then releases every look-up of the group, or fails them all with `AuditNotRecorded` if the
transaction did not commit (it is rolled back whole: no entry of the group is written). The
next group is gathered while one commits, so the groups grow with the load and a lone
look-up waits for no one. Across processes the write lock keeps the chain exact.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy import Connection

from accord.store.engine import connection_lost

log = logging.getLogger(__name__)

MOST = 1000  # events in one transaction: a flood is committed in turns, not as one

E = TypeVar("E")  # an event


class AuditNotRecorded(RuntimeError):
    """The group's transaction did not commit: the look-up must not be answered."""


class AuditGroup(Generic[E]):
    """One process's committer of look-ups' audit events: a thread and its connection,
    started at the first event (after the server's workers are forked) and stopped by
    `close`, after which the next event starts them again."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        commit: Callable[[Connection, Sequence[E]], None],
        most: int = MOST,
    ) -> None:
        self._connect = connect  # a connection with no transaction open, for the committer
        self._commit = commit  # appends events chained and commits, on that connection
        self._most = most
        self._ready = threading.Condition()
        self._queue: list[tuple[Sequence[E], Future[None]]] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.commits = 0  # transactions committed (tests and benchmarks read it)

    @property
    def waiting(self) -> int:
        """Submissions queued for the next group."""
        with self._ready:
            return len(self._queue)

    def submit(self, events: Sequence[E]) -> Future[None]:
        """``events``' commit, to come: wait for it before answering."""
        done: Future[None] = Future()
        with self._ready:
            if self._stopping:
                done.set_exception(AuditNotRecorded("the server is stopping"))
                return done
            if self._thread is None:
                self._start()
            self._queue.append((events, done))
            self._ready.notify()
        return done

    def close(self) -> None:
        """Commit what is queued, stop the thread and close its connection."""
        with self._ready:
            thread = self._thread
            if thread is None:
                return
            self._stopping = True
            self._ready.notify()
        thread.join()
        with self._ready:
            self._thread = None
            self._stopping = False

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audit-group", daemon=True)
        self._thread.start()

    def _take(self) -> list[tuple[Sequence[E], Future[None]]] | None:
        """The next group (everything queued, up to ``most`` events); None to stop."""
        with self._ready:
            while not self._queue and not self._stopping:
                self._ready.wait()
            if not self._queue:
                return None
            taken, count = 0, 0
            for events, _ in self._queue:
                if count and count + len(events) > self._most:
                    break
                taken += 1
                count += len(events)
            group, self._queue = self._queue[:taken], self._queue[taken:]
        for _, done in group:
            # From here a waiter can no longer cancel its future (a look-up whose waiter was
            # cancelled, its client gone, is still recorded: it was made).
            done.set_running_or_notify_cancel()
        return group

    def _run(self) -> None:
        conn: Connection | None = None
        try:
            while (group := self._take()) is not None:
                events = [event for submitted, _ in group for event in submitted]
                try:
                    if conn is None or connection_lost(conn):
                        if conn is not None:
                            conn.close()
                        conn = self._connect()
                    self._commit(conn, events)
                except Exception as exc:
                    # Not retried: a connection lost during COMMIT leaves it unknown whether
                    # the group was written, and writing it twice would record look-ups
                    # that were not made. The look-ups fail (5xx); the next group takes a
                    # new connection.
                    log.warning("audit entries of %d look-ups not recorded: %s", len(group), exc)
                    if conn is not None and connection_lost(conn):
                        conn.close()
                        conn = None
                    for _, done in group:
                        if not done.cancelled():
                            failed = AuditNotRecorded("the audit entry was not recorded")
                            failed.__cause__ = exc
                            done.set_exception(failed)
                    continue
                self.commits += 1
                for _, done in group:
                    if not done.cancelled():
                        done.set_result(None)
        finally:
            if conn is not None:
                conn.close()
            with self._ready:
                if not self._stopping:  # an unexpected end: the next event starts anew
                    self._thread = None
                left, self._queue = self._queue, []
            for _, done in left:
                if done.set_running_or_notify_cancel():
                    done.set_exception(AuditNotRecorded("the audit committer stopped"))
