"""Writing a large bundle in chunks while it is still being validated, in one transaction.

On PostgreSQL the database server does the inserting in its own process while psycopg waits
on the socket with the GIL released, so a writer thread with its own connection takes prepared
chunks from a short queue and the two overlap on a two-core machine (:class:`BatchWriter`).

SQLite works inside this process, and Python's sqlite3 module releases the GIL for each row's
step only: the writer thread then waits for the GIL again after every row while the validating
thread holds it for its switch interval, and nothing overlaps. Measured on ATT&CK Enterprise
the thread was slower than writing each chunk in the validating thread itself
(:class:`InlineWriter`), which SQLite gets.

Either way the transaction commits only when the producer says the bundle is complete;
otherwise it rolls back, and a bundle stays all or nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Protocol

from sqlalchemy import Connection, Engine, RootTransaction

from accord.store.dialects import backend_for
from accord.store.engine import WRITE
from accord.store.engine_state import committed
from accord.store.records import NewVersion, Outcome

_DONE = object()

PutFn = Callable[[Connection, Sequence[NewVersion]], list[Outcome]]
FinishFn = Callable[[Connection], None]


class ChunkWriter(Protocol):
    """Use as a context manager: ``submit`` chunks, then ``commit``; leaving the block
    without ``commit`` (or with an exception) rolls everything back."""

    def __enter__(self) -> ChunkWriter: ...

    def submit(self, versions: Sequence[NewVersion]) -> None: ...

    def commit(self) -> list[Outcome]: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def chunk_writer(engine: Engine, put: PutFn, before_commit: FinishFn | None = None) -> ChunkWriter:
    """The writer that suits the database (see the module's docstring); ``before_commit``
    runs in the transaction, after the last chunk and only if it is to be committed."""
    if backend_for(engine).writes_in_thread:
        return BatchWriter(engine, put, before_commit=before_commit)
    return InlineWriter(engine, put, before_commit)


class InlineWriter:
    """Writes each chunk as it is submitted, in the caller's thread."""

    def __init__(self, engine: Engine, put: PutFn, before_commit: FinishFn | None = None) -> None:
        self._engine = engine
        self._put = put
        self._before_commit = before_commit
        self._outcomes: list[Outcome] = []
        self._stack = ExitStack()
        self._conn: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> InlineWriter:
        self._conn = self._stack.enter_context(self._engine.connect())
        self._conn.execution_options(**{WRITE: True})
        self._transaction = self._conn.begin()
        return self

    def submit(self, versions: Sequence[NewVersion]) -> None:
        if versions:
            assert self._conn is not None, "use the writer as a context manager"
            self._outcomes.extend(self._put(self._conn, versions))

    def commit(self) -> list[Outcome]:
        assert self._transaction is not None, "use the writer as a context manager"
        if self._before_commit is not None:
            assert self._conn is not None
            self._before_commit(self._conn)
        self._transaction.commit()
        committed(self._engine)
        return self._outcomes

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()  # left without commit: nothing stays
        finally:
            self._stack.close()


class BatchWriter:
    """Use as a context manager: ``submit`` chunks, then ``commit``; leaving the block
    without ``commit`` (or with an exception) rolls everything back."""

    def __init__(
        self, engine: Engine, put: PutFn, depth: int = 4, before_commit: FinishFn | None = None
    ) -> None:
        self._engine = engine
        self._put = put
        self._before_commit = before_commit
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._outcomes: list[Outcome] = []
        self._error: BaseException | None = None
        self._commit = False
        self._thread = threading.Thread(target=self._run, name="accord-writer", daemon=True)

    def __enter__(self) -> BatchWriter:
        self._thread.start()
        return self

    def submit(self, versions: Sequence[NewVersion]) -> None:
        if self._error is not None:
            raise self._error
        if versions:
            self._queue.put(list(versions))

    def commit(self) -> list[Outcome]:
        """Wait for every chunk to be written, commit, and answer an outcome per version."""
        self._commit = True
        self._finish()
        return self._outcomes

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread.is_alive():
            self._finish()

    def _finish(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execution_options(**{WRITE: True})
                transaction = conn.begin()
                try:
                    while (item := self._queue.get()) is not _DONE:
                        assert isinstance(item, list)
                        self._outcomes.extend(self._put(conn, item))
                except BaseException:
                    transaction.rollback()
                    self._drain()
                    raise
                if self._commit:
                    if self._before_commit is not None:
                        self._before_commit(conn)
                    transaction.commit()
                    committed(self._engine)
                else:
                    transaction.rollback()
        except BaseException as exc:  # handed to the producer's thread
            self._error = exc

    def _drain(self) -> None:
        while self._queue.get() is not _DONE:
            pass
