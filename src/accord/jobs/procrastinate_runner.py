"""The periodic jobs run by procrastinate, on PostgreSQL: how a node over PostgreSQL runs
them, in each ``accord serve`` process and in each ``accord worker``.

- Every worker's periodic deferrer inserts the job of each period; procrastinate's unique
  (task, period) row makes that once per period however many workers there are, and a
  queueing lock keeps at most one job of a kind waiting.
- A failed run is retried with the runners' `Backoff` (by default twice, after 2 and 4
  seconds: `CappedBackoff`), then left failed; the next period is a new job.
- The tables live in the node's schema (`accord.store.job_queue`, installed or brought up to
  date when a worker starts) and the queue is named for that schema, so that two nodes in two
  schemas of one database (the tests do this) never take or wake each other's jobs:
  notifications are per database, and their channel is named for the queue.
- Finished jobs are deleted after a week (`KEEP_HOURS`), by a periodic job of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources

from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
from procrastinate.jobs import Job
from procrastinate.schema import SchemaManager

from accord.jobs.definitions import PeriodicJob
from accord.jobs.execution import Backoff, execute
from accord.jobs.schedule import Scheduled
from accord.settings import Settings
from accord.store import job_queue
from accord.store.job_queue import Migration
from accord.store.node import Store

log = logging.getLogger("accord.jobs")

KEEP_HOURS = 24 * 7
CLEANUP_CRON = "17 * * * *"  # hourly
SHUTDOWN_SECONDS = 30.0  # a run still going this long after a stop is aborted
RESTART_MAX_SECONDS = 300.0
_QUEUE_CHARS = 40  # pg_notify channel names end at 63 bytes; procrastinate adds 23


def queue_name(schema: str) -> str:
    """The queue of the node whose tables are in ``schema``."""
    name = "accord" if schema == "public" else f"accord.{schema}"
    if len(name.encode()) <= _QUEUE_CHARS:
        return name
    return "accord." + hashlib.sha256(schema.encode()).hexdigest()[:24]


def migrations() -> list[Migration]:
    """procrastinate's migration files, as it ships them."""
    folder = resources.files("procrastinate.sql") / "migrations"
    return [
        Migration(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]


def prepare(store: Store) -> str:
    """Install or update procrastinate's schema in the node's; answers the node's queue."""
    done = job_queue.install(store.engine, SchemaManager.get_schema(), migrations())
    log.info("%s", done)
    return queue_name(job_queue.current_schema(store.engine))


def conninfo(store: Store) -> str:
    """The node's URL as libpq reads it (its options, search_path among them, kept)."""
    url = store.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class CappedBackoff(BaseRetryStrategy):
    """procrastinate's retries by Accord's `Backoff` (exponential, with a cap): procrastinate's
    own `RetryStrategy` has no cap."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        del exception  # every failure is retried alike; `execute` logged and recorded it
        wait = self.backoff.delay(job.attempts + 1)  # attempts: those before this one
        if wait is None:
            return None
        return RetryDecision(retry_in={"milliseconds": round(wait * 1000)})


class ProcrastinateRunner:
    backend = "procrastinate"

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
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> ProcrastinateRunner:
        """Run the worker as a task of the running loop (`accord serve`). A worker that fails
        (the database restarted, say) is logged and started again, after 5 seconds and then
        twice as long each time up to `RESTART_MAX_SECONDS`: the server goes on meanwhile."""
        self._task = asyncio.get_running_loop().create_task(
            self._restarting(), name="accord jobs (procrastinate)"
        )
        return self

    async def stop(self) -> None:
        """Stop by asking, not by cancelling: a worker cancelled while it opens its
        connection pool would leave the pool's tasks running (and the event loop unable to
        close). Cancelled only if it has not stopped well after the graceful timeout."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), SHUTDOWN_SECONDS + 30)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def _restarting(self) -> None:
        delay = 5.0
        while not self._stopping.is_set():
            try:
                await self.run(self._stopping)
                return
            except Exception:
                log.exception("the background jobs' worker stopped; again in %.0f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, RESTART_MAX_SECONDS)

    async def run(self, stopping: asyncio.Event) -> None:
        """Run the worker until ``stopping`` is set; then running jobs get
        `SHUTDOWN_SECONDS` to finish."""
        queue = await asyncio.to_thread(prepare, self.store)
        if stopping.is_set():
            return
        app = self._app(queue)
        async with app.open_async():
            worker = asyncio.create_task(
                app.run_worker_async(
                    queues=[queue],
                    name=f"accord {queue}",
                    concurrency=max(1, len(self.jobs)),
                    install_signal_handlers=False,
                    shutdown_graceful_timeout=SHUTDOWN_SECONDS,
                    # A job whose notification was missed is still fetched this often.
                    fetch_job_polling_interval=5.0,
                )
            )
            asked = asyncio.create_task(stopping.wait())
            try:
                await asyncio.wait({worker, asked}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                asked.cancel()
                if not worker.done():
                    worker.cancel()  # procrastinate's graceful stop
                with contextlib.suppress(asyncio.CancelledError):
                    await worker  # its own error, if it stopped by one

    def _app(self, queue: str) -> App:
        app = App(
            connector=PsycopgConnector(
                conninfo=conninfo(self.store),
                min_size=1,
                max_size=max(4, len(self.jobs) + 3),  # jobs, the listener, heartbeat, defers
            )
        )
        retry = CappedBackoff(self.backoff)
        for item in self.jobs:
            task = app.task(
                name=f"accord.{item.job.name}",
                queue=queue,
                retry=retry,
                queueing_lock=f"{queue}:{item.job.name}",
            )(self._task_function(item.job))
            app.periodic(cron=item.cron, periodic_id=item.job.name)(task)

        async def remove_old_jobs(timestamp: int) -> None:
            del timestamp
            await app.job_manager.delete_old_jobs(
                nb_hours=KEEP_HOURS,
                queue=queue,
                include_failed=True,
                include_cancelled=True,
                include_aborted=True,
            )

        cleanup = app.task(
            name="accord.remove_old_jobs", queue=queue, queueing_lock=f"{queue}:cleanup"
        )(remove_old_jobs)
        app.periodic(cron=CLEANUP_CRON, periodic_id="remove_old_jobs")(cleanup)
        return app

    def _task_function(self, job: PeriodicJob) -> Callable[[int], Awaitable[None]]:
        def run() -> None:
            self.store.job_runs.started(job.name)
            execute(self.store, self.settings, job)

        async def run_job(timestamp: int) -> None:
            del timestamp  # the period's start: a run does the same whenever it starts
            await asyncio.to_thread(run)

        run_job.__name__ = f"run_{job.name}"
        return run_job
