"""Fetching a listing's next page while this one is stored (bench/federation.py).

A pull alternates between waiting for the peer (its query, its dressing of the objects for
this node, the transfer) and storing what came (checks, validation, indexing, the write). The
two need different processes' time, so the next page is asked for in a worker thread while
the caller stores the current one: exactly one page ahead, so a pull holds at most two pages
in memory, whatever the size of the listing.

Nothing about what is stored changes: pages come in the same order, and each page's cursor is
still written with its objects by the caller (`accord.federation.page_walk`). A pull cut
after a page was fetched ahead and before it was stored fetches it again next time.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

_END = object()  # the walk has no more pages


class ReadAhead(Generic[T]):
    """Iterate ``items`` one step ahead in a worker thread. ``close`` (or leaving a ``with``
    block) waits for the step in flight: the items' resources (an HTTP client) may be closed
    once it returns. An exception of the walk is raised where its item would have been."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items
        self._pool: ThreadPoolExecutor | None = None
        self._next: Future[object] | None = None
        self._done = False

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="accord-read-ahead")
            self._next = self._pool.submit(next, self._items, _END)
        assert self._next is not None
        try:
            found = self._next.result()
        except BaseException:
            self._done = True
            raise
        if found is _END:
            self._done = True
            raise StopIteration
        self._next = self._pool.submit(next, self._items, _END)
        return found  # type: ignore[return-value]  # not _END: an item of ``items``

    def close(self) -> None:
        self._done = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # the step in flight ends first
            self._pool = None
        close = getattr(self._items, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
