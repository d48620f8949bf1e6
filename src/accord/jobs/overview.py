"""What ``accord jobs`` shows: every periodic job with its period, its last run, its failures
and last error (both backends record these in the store), the retry backoff, and on
PostgreSQL the jobs in procrastinate's queue: per task, how many are waiting, running,
done or failed, and the most recent ones."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from accord.jobs.definitions import PERIODIC_JOBS, PeriodicJob
from accord.jobs.execution import Backoff
from accord.jobs.runner import backend
from accord.jobs.schedule import period
from accord.store import job_queue
from accord.store.node import Store


def overview(
    store: Store,
    limit: int = 20,
    env: Mapping[str, str] | None = None,
    jobs: Iterable[PeriodicJob] = PERIODIC_JOBS,
) -> dict[str, Any]:
    """``backend``, ``backoff``, ``periodic`` (one entry a job, with ``queued``: its jobs in
    procrastinate's queue by status), and ``recent`` (procrastinate's last ``limit`` jobs of
    this node, newest first). ``queued`` and ``recent`` are empty on SQLite, whose jobs
    are not queued."""
    env = os.environ if env is None else env
    chosen = backend(store, env)
    queued: dict[str, dict[str, int]] = {}
    recent: list[dict[str, Any]] = []
    if store.engine.dialect.name == "postgresql":
        from accord.jobs.procrastinate_runner import queue_name

        queue = queue_name(job_queue.current_schema(store.engine))
        queued = job_queue.counts(store.engine, queue)
        recent = [job.as_json() for job in job_queue.recent(store.engine, queue, limit)]
    periodic = []
    for job in jobs:
        run = store.job_runs.get(job.name)
        periodic.append(
            {
                "name": job.name,
                "summary": job.summary,
                "period": period(job, env),  # seconds; 0: off
                "period_env": job.period_env,
                "last_started": run.started,
                "last_finished": run.finished,
                "last_error": run.error,
                "running": run.running_until is not None,
                "runs": run.runs,
                "failures": run.failures,
                "queued": queued.get(f"accord.{job.name}", {}),
                "backlog": None if job.backlog is None else job.backlog(store),
            }
        )
    return {
        "backend": chosen,
        "backoff": Backoff.from_env(env).as_json(),
        "periodic": periodic,
        "recent": recent,
    }
