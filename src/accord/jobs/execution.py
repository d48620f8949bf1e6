"""One run of a periodic job, as both runners do it: run the function, record the outcome in
the store (`accord.store.job_runs`), log a failure with its traceback; and how long a failed
run waits before it is tried again (`Backoff`), the same on both runners."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from accord.jobs.definitions import PeriodicJob
from accord.settings import Settings
from accord.store.node import Store

log = logging.getLogger("accord.jobs")

ATTEMPTS_ENV = "ACCORD_JOB_ATTEMPTS"
FIRST_RETRY_ENV = "ACCORD_JOB_RETRY_SECONDS"
LONGEST_RETRY_ENV = "ACCORD_JOB_RETRY_MAX_SECONDS"


@dataclass(frozen=True)
class Backoff:
    """A failed run is tried again after ``first`` seconds, then twice as long each time, at
    most ``longest`` apart, until ``attempts`` runs in all have failed. The defaults (3
    attempts: retries after 2 and 4 s) suit jobs that run every few seconds: a run that
    fails three times waits for its next period, which is a fresh run."""

    attempts: int = 3
    first: float = 2.0
    longest: float = 300.0

    def delay(self, failed: int) -> float | None:
        """Seconds to wait after the ``failed``-th failed attempt of a run (1, 2, ...); None
        when no attempt is left."""
        if failed >= self.attempts:
            return None
        return min(self.first * 2.0 ** (failed - 1), self.longest)

    def as_json(self) -> dict[str, float]:
        return {"attempts": self.attempts, "first": self.first, "longest": self.longest}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Backoff:
        """From ``ACCORD_JOB_ATTEMPTS``, ``ACCORD_JOB_RETRY_SECONDS`` and
        ``ACCORD_JOB_RETRY_MAX_SECONDS``; a ValueError saying which is wrong."""
        default = cls()
        attempts = _number(env, ATTEMPTS_ENV, default.attempts, "runs of a failing job, >= 1")
        first = _number(env, FIRST_RETRY_ENV, default.first, "seconds before the first retry")
        longest = _number(env, LONGEST_RETRY_ENV, default.longest, "seconds between retries")
        if attempts < 1 or attempts != int(attempts):
            raise ValueError(f"{ATTEMPTS_ENV}={attempts:g}: give a whole number of runs, >= 1")
        return cls(int(attempts), first, max(first, longest))


def _number(env: Mapping[str, str], name: str, default: float, what: str) -> float:
    text = env.get(name, "").strip()
    if not text:
        return float(default)
    try:
        found = float(text)
    except ValueError:
        found = -1.0
    if found < 0 or found != found:
        raise ValueError(f"{name}={text!r}: give the {what}")
    return found


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
