"""What ``accord jobs`` shows: each periodic job with its period and its last run (both
backends record these in the store), and on PostgreSQL procrastinate's recent jobs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from accord.jobs.definitions import PERIODIC_JOBS, PeriodicJob
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
    """``backend``, ``periodic`` (one entry a job) and ``recent`` (procrastinate's last
    ``limit`` jobs of this node, newest first; empty on SQLite)."""
    env = os.environ if env is None else env
    chosen = backend(store, env)
    periodic = []
    for job in jobs:
        run = store.job_runs.get(job.name)
        periodic.append(
            {
                "name": job.name,
                "summary": job.summary,
                "period": period(job, env),  # seconds; 0: off
                "last_started": run.started,
                "last_finished": run.finished,
                "last_error": run.error,
                "running": run.running_until is not None,
                "runs": run.runs,
                "failures": run.failures,
            }
        )
    recent: list[dict[str, Any]] = []
    if store.engine.dialect.name == "postgresql":
        from accord.jobs.procrastinate_runner import queue_name

        queue = queue_name(job_queue.current_schema(store.engine))
        recent = [job.as_json() for job in job_queue.recent(store.engine, queue, limit)]
    return {"backend": chosen, "periodic": periodic, "recent": recent}
