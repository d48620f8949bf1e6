"""One run of a periodic job, as both runners do it: run the function, record the outcome in
the store (`accord.store.job_runs`), log a failure with its traceback."""

from __future__ import annotations

import logging
import time

from accord.jobs.definitions import PeriodicJob
from accord.settings import Settings
from accord.store.node import Store

log = logging.getLogger("accord.jobs")

ATTEMPTS = 3  # a failed run is tried twice more, after BACKOFF ** attempt seconds
BACKOFF = 2


def execute(store: Store, settings: Settings, job: PeriodicJob) -> None:
    """Run ``job`` once; a failure is recorded and logged, then raised again (for the
    runner's retry)."""
    began = time.monotonic()
    try:
        job.run(store, settings)
    except Exception as exc:
        log.exception("job %s failed", job.name)
        store.job_runs.finished(job.name, f"{type(exc).__name__}: {exc}")
        raise
    store.job_runs.finished(job.name, None)
    log.debug("job %s done in %.3f s", job.name, time.monotonic() - began)
