"""The helper process that answers half of a large bulk look-up (two cores for one request).

A 10,000-value look-up is Python work (search, scoring, context: about 0.6 s on a 2-core
machine), and one process runs Python on one core. So the node keeps one helper process
that answers the first half of a large bulk look-up while the request's own thread answers
the second half; the two halves are joined in order and the request audits the whole look-up
as one entry, as before. The helper opens the same store and reads through the same
visibility rule for the same viewer, with the same lists: an answer does not depend on which
process gave it. It is spawned, not forked (the server has threads), when the server starts,
and a look-up does not wait for it to be ready: until it is, or if it fails, the request's
thread answers everything, as without it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from accord.intel.lookup.service import Encoded, LookupService
from accord.model.visibility import Viewer
from accord.settings import Settings
from accord.store.engine import shared_across_processes
from accord.store.node import Store

SPLIT_FROM = 2_000
"""Values from which a bulk look-up is shared with the helper; below, the hand-over (the
values one way, a few hundred kilobytes of answers the other) costs more than it saves."""

WAIT_SECONDS = 120.0  # for the helper's half, before answering it here instead

log = logging.getLogger(__name__)


# -- in the helper process -----------------------------------------------------------------

_service: LookupService | None = None


def _open(server: int, settings: Settings) -> None:
    global _service
    # Ctrl+C in a terminal reaches the whole process group: the server stops the helper.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A server killed outright cannot stop it: it stops itself when its server is gone
    # (which may be before it got here).
    threading.Thread(target=_watch, args=(server,), name="accord-bulk-watch", daemon=True).start()
    _service = LookupService.load(Store.open(settings.database_url, settings.replicas()), settings)


def _watch(server: int) -> None:
    while os.getppid() == server:
        time.sleep(1.0)
    os._exit(0)


def _ready() -> bool:
    return _service is not None


def _answer(viewer: Viewer, values: list[str], kind: str | None) -> Encoded:
    assert _service is not None
    return _service.encoded(viewer, values, kind)


# -- in the server -------------------------------------------------------------------------


class BulkHelper:
    """The helper process of one server process (a `accord.intel.lookup.service.Helper`)."""

    split_from = SPLIT_FROM
    wait_seconds = WAIT_SECONDS

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._executor: ProcessPoolExecutor | None = None
        self._ready: Future[bool] | None = None
        self._lock = threading.Lock()
        self.shared = 0  # look-ups it has taken half of (tests and diagnostics)

    def start(self) -> BulkHelper:
        """Spawn the helper; it opens the store and the lists in the background."""
        settings = self._settings
        executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open,
            initargs=(os.getpid(), settings),
        )
        with self._lock:
            self._executor = executor
            self._ready = executor.submit(_ready)
        return self

    def ready(self) -> bool:
        """Whether the helper has opened the store (look-ups do not wait for it)."""
        ready = self._ready
        return ready is not None and ready.done() and ready.exception() is None

    def submit(
        self, viewer: Viewer, values: Sequence[str], kind: str | None
    ) -> Future[Encoded] | None:
        """The helper's answers to ``values``, to come; None while it is not ready (or
        has failed): the caller answers them itself."""
        with self._lock:
            executor, ready = self._executor, self._ready
        if executor is None or ready is None or not ready.done():
            return None
        try:
            if ready.result() is not True:
                raise RuntimeError("the bulk helper did not open the store")
            shared = executor.submit(_answer, viewer, list(values), kind)
            self.shared += 1
            return shared
        except Exception as exc:  # a broken pool: carry on without it
            log.warning("bulk look-up helper unavailable (%s); answering in one process", exc)
            self.close()
            return None

    def close(self) -> None:
        with self._lock:
            executor, ready = self._executor, self._ready
            self._executor, self._ready = None, None
        if executor is None:
            return
        if ready is not None and ready.done():
            # Waits for a half being answered, if any (a fraction of a second): without the
            # wait, a server stopping right after would leave the helper running.
            executor.shutdown(wait=True, cancel_futures=True)
            return
        # Still opening the store and compiling the lists (seconds on a busy machine): it
        # would read the request to stop only once done, and the server's stop would wait for
        # it. Nothing is asked of it yet, so it is stopped outright.
        processes = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(5.0)


def wanted(settings: Settings) -> bool:
    """A helper only helps where there is a second core, and only a file or server database
    can be opened by a second process."""
    if not settings.bulk_helper or len(_available_cores()) < 2:
        return False
    return shared_across_processes(settings.database_url)


def _available_cores() -> set[int]:
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not on Linux
        return set(range(os.cpu_count() or 1))
