"""Where a single look-up runs: inline on the event loop's thread while it is the only one
in flight, on one of a few look-up threads while others are; and how its answer gets back to
the event loop.

A look-up's reads wait on the database (on PostgreSQL, a round trip per query). Inline, that
wait stops the event loop: it is the cheapest way for a look-up that arrives alone (no
hand-over to a thread and back), but under concurrency the process would answer one look-up
at a time. On a look-up thread the wait overlaps with other look-ups' reads, with their audit
commits (`accord.store.audit_group`) and with the event loop's own work; each thread keeps its
own held connection (`accord.store.lookup_session`).

Under load the hand-overs themselves were a quarter of the process's time (profiled with
py-spy: `ThreadPoolExecutor.submit` and one `call_soon_threadsafe` per finished future, each
a write to the event loop's wake-up pipe). So a look-up is handed to a thread through a plain
queue, the thread does not hand it back after reading but when its audit entry is committed
(one hand-back, not two), and the hand-backs of a whole audit group, which complete together
on the committer's thread, wake the event loop once (`Wakeups`).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")

THREADS = 4  # look-ups read at once, besides the event loop's thread


class Wakeups:
    """Futures completed on other threads, passed to one event loop's futures with one wake-up
    of the loop per burst (`asyncio.wrap_future` wakes it once per future)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._done: list[tuple[Future[object], asyncio.Future[object]]] = []

    def watch(self, future: Future[T]) -> asyncio.Future[T]:
        """``future``'s outcome on the loop (call on the loop's thread)."""
        waiter: asyncio.Future[T] = self.loop.create_future()
        future.add_done_callback(lambda done: self._completed(done, waiter))  # type: ignore[arg-type]
        return waiter

    def _completed(self, future: Future[object], waiter: asyncio.Future[object]) -> None:
        with self._lock:
            self._done.append((future, waiter))
            first = len(self._done) == 1  # later ones ride on the wake-up already asked for
        if first:
            # RuntimeError: the loop is closed (the server stopped): nobody waits.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            done, self._done = self._done, []
        for future, waiter in done:
            if waiter.cancelled():  # its client went away
                continue
            error = future.exception()
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(future.result())


class LookupThreads:
    """The look-up threads of one process, started at the first concurrent look-up."""

    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._started: list[threading.Thread] = []
        self._wakeups: Wakeups | None = None  # the serving loop's (tests start several)
        self.in_flight = 0  # look-ups begun and not yet answered

    def begin(self) -> bool:
        """A look-up begins; whether others are in flight (then it runs on a thread)."""
        self.in_flight += 1
        return self.in_flight > 1

    def end(self) -> None:
        self.in_flight -= 1

    def answered(self, future: Future[T]) -> asyncio.Future[T]:
        """``future`` (completed on any thread) awaited on the running loop."""
        loop = asyncio.get_running_loop()
        wakeups = self._wakeups
        if wakeups is None or wakeups.loop is not loop:
            wakeups = self._wakeups = Wakeups(loop)
        return wakeups.watch(future)

    def run_recorded(self, call: Callable[[], tuple[T, Future[None]]]) -> asyncio.Future[T]:
        """``call`` (a look-up: its answer and its audit entry's commit, to come) on a look-up
        thread; its answer on the running loop once that commit is made, or the commit's
        error."""
        result: Future[T] = Future()

        def work() -> None:
            try:
                answer, recorded = call()
            except BaseException as exc:
                result.set_exception(exc)
                return
            recorded.add_done_callback(lambda _: _settle(result, answer, recorded))

        waiter = self.answered(result)
        self._start()
        self._work.put(work)
        return waiter

    def _start(self) -> None:
        while len(self._started) < self._threads:
            thread = threading.Thread(target=self._serve, name="lookup", daemon=True)
            thread.start()
            self._started.append(thread)

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            work()  # catches its own errors

    def close(self) -> None:
        started, self._started = self._started, []
        for _ in started:
            self._work.put(None)
        for thread in started:
            thread.join()
        self._wakeups = None


def _settle(result: Future[T], answer: T, recorded: Future[None]) -> None:
    error = recorded.exception()
    if error is not None:
        result.set_exception(error)
    else:
        result.set_result(answer)
