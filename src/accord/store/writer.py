"""Writing a large bundle while it is still being validated.

Validation and indexing are Python work; SQLite's and psycopg's writes mostly run with the
GIL released. A writer thread with its own connection and one transaction takes prepared
chunks from a short queue, so that the two overlap on a two-core machine. The transaction
commits only when the producer says the bundle is complete; otherwise it rolls back, and a
bundle stays all or nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from types import TracebackType

from sqlalchemy import Connection, Engine

from accord.store.engine import WRITE
from accord.store.records import NewVersion, Outcome

_DONE = object()

PutFn = Callable[[Connection, Sequence[NewVersion]], list[Outcome]]


class BatchWriter:
    """Use as a context manager: ``submit`` chunks, then ``commit``; leaving the block
    without ``commit`` (or with an exception) rolls everything back."""

    def __init__(self, engine: Engine, put: PutFn, depth: int = 4) -> None:
        self._engine = engine
        self._put = put
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
                    transaction.commit()
                else:
                    transaction.rollback()
        except BaseException as exc:  # handed to the producer's thread
            self._error = exc

    def _drain(self) -> None:
        while self._queue.get() is not _DONE:
            pass
