"""The periodic jobs run in the process, by asyncio: how a node on SQLite runs them (and any
node with ``ACCORD_JOBS=in-process``).

One task per job wakes at the start of each period, claims the period in the database
(`JobRuns.claim`: one process of several gets it, and none while a run is still going), and
runs the job in a thread. A failed run is tried again after the `Backoff` delays (2 and 4
seconds by default; never past the start of the next period), then waits for the next
period; a failure never stops the task nor the other jobs. Stopping waits for the runs under
way (at most `SHUTDOWN_SECONDS`), so that none outlives the store it writes to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from accord.jobs.execution import Backoff, execute
from accord.jobs.schedule import Scheduled
from accord.settings import Settings
from accord.store.node import Store

log = logging.getLogger("accord.jobs")

LEASE_SECONDS = 600.0  # a run longer than this may overlap the next period's
SHUTDOWN_SECONDS = 30.0  # as procrastinate's worker: a run still going then is left behind


class InProcessRunner:
    backend = "in-process"

    def __init__(
        self,
        store: Store,
        settings: Settings,
        jobs: Sequence[Scheduled],
        backoff: Backoff | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.jobs = list(jobs)
        self.backoff = backoff or Backoff()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Future[None]] = set()  # runs in their threads

    def start(self) -> InProcessRunner:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._every_period(item), name=f"accord job {item.job.name}")
            for item in self.jobs
        ]
        return self

    async def stop(self) -> None:
        """Cancel the tasks, then wait for the runs under way in their threads (a thread
        cannot be cancelled: left running, it would write to a store about to close), for
        `SHUTDOWN_SECONDS` at most; one still going then keeps its lease until it expires."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._running:
            await asyncio.wait(set(self._running), timeout=SHUTDOWN_SECONDS)

    def _finished(self, run: asyncio.Future[None]) -> None:
        self._running.discard(run)
        if not run.cancelled():
            run.exception()  # seen (`execute` logged it), also when `stop` was the waiter

    async def _every_period(self, item: Scheduled) -> None:
        # The first run at the start of the next period, not at once: a server starting (or
        # a test's app) does not reach out to feeds and peers before it answers, and
        # procrastinate's periodic jobs on PostgreSQL also run at period boundaries only.
        while True:
            await asyncio.sleep(max(0.0, item.next_start(time.time()) - time.time()))
            tick = item.tick(time.time())
            try:
                await self._run_period(item, tick)
            except Exception:  # the database went away, say: try again next period
                log.exception("job %s: period %d not run", item.job.name, tick)

    async def _run_period(self, item: Scheduled, tick: int) -> None:
        name = item.job.name
        claimed = await asyncio.to_thread(self.store.job_runs.claim, name, tick, LEASE_SECONDS)
        if not claimed:
            return  # another process has it, or is still running the last one
        failed = 0
        while True:
            # Shielded: cancelling the task (`stop`) leaves the run to finish, and `stop`
            # waits for it.
            run = asyncio.ensure_future(
                asyncio.to_thread(execute, self.store, self.settings, item.job)
            )
            self._running.add(run)
            run.add_done_callback(self._finished)
            try:
                await asyncio.shield(run)
                return
            except Exception:
                pass  # logged and recorded by `execute`
            failed += 1
            wait = self.backoff.delay(failed)
            if wait is None or time.time() + wait >= item.next_start(time.time()):
                return  # the next period tries again
            await asyncio.sleep(wait)
            retaken = await asyncio.to_thread(
                self.store.job_runs.claim, name, tick, LEASE_SECONDS, True
            )
            if not retaken:
                return
