"""Where a single look-up runs: inline on the event loop's thread while it is the only one
in flight, on one of a few look-up threads while others are.

A look-up's reads wait on the database (on PostgreSQL, a round trip per query). Inline, that
wait stops the event loop: it is the cheapest way for a look-up that arrives alone (no
hand-over to a thread and back), but under concurrency the process would answer one look-up
at a time. On a look-up thread the wait overlaps with other look-ups' reads, with their audit
commits (`accord.store.audit_group`) and with the event loop's own work; each thread keeps its
own held connection (`accord.store.lookup_session`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

THREADS = 4  # look-ups read at once, besides the event loop's thread


class LookupThreads:
    """The look-up threads of one process, started at the first concurrent look-up."""

    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self.in_flight = 0  # look-ups begun and not yet answered

    def begin(self) -> bool:
        """A look-up begins; whether others are in flight (then it runs on a thread)."""
        self.in_flight += 1
        return self.in_flight > 1

    def end(self) -> None:
        self.in_flight -= 1

    async def run(self, call: Callable[[], T]) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="lookup")
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
