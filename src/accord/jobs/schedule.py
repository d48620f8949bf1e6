"""When the periodic jobs run: their periods, read from the environment when a runner starts
(not at import), and the periods' numbering.

A period is whole seconds that divide a minute, an hour or a day (1, 2, 5, 30, 60, 300, 3600,
86400 ...), because procrastinate schedules by cron expressions: 45 is taken as 30, with a log
line saying so. Period number *n* (a *tick*) starts at *n* x period seconds since the epoch,
and each is run once (on PostgreSQL procrastinate's periodic deferrer, on SQLite the lease of
`accord.store.job_runs`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from accord.jobs.definitions import PeriodicJob

log = logging.getLogger("accord.jobs")

JOBS_ENV = "ACCORD_JOBS"  # auto (the default), in-process, or 0 / off


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


PERIODS: tuple[int, ...] = tuple(
    sorted({*_divisors(60), *(60 * d for d in _divisors(60)), *(3600 * d for d in _divisors(24))})
)


@dataclass(frozen=True)
class Scheduled:
    """A job and its period, in seconds."""

    job: PeriodicJob
    period: int

    @property
    def cron(self) -> str:
        """procrastinate's schedule: a sixth field is seconds (croniter)."""
        if self.period < 60:
            return f"* * * * * */{self.period}"
        if self.period < 3600:
            return f"*/{self.period // 60} * * * *"
        if self.period < 86400:
            return f"0 */{self.period // 3600} * * *"
        return "0 0 * * *"

    def tick(self, now: float) -> int:
        return int(now // self.period)

    def next_start(self, now: float) -> float:
        return (self.tick(now) + 1) * self.period


def mode(env: Mapping[str, str]) -> str:
    """``auto``, ``in-process`` or ``off``, from ``ACCORD_JOBS``."""
    found = env.get(JOBS_ENV, "auto").strip().lower()
    if found in ("0", "off", "no", "false"):
        return "off"
    if found in ("auto", "in-process"):
        return found
    raise ValueError(
        f"{JOBS_ENV}={found!r}: give auto (procrastinate on PostgreSQL, in-process on "
        "SQLite), in-process, or off"
    )


def period(job: PeriodicJob, env: Mapping[str, str]) -> int:
    """The job's period in seconds, 0 when turned off."""
    text = env.get(job.period_env, str(job.default_period)).strip()
    try:
        wanted = float(text)
    except ValueError:
        wanted = -1
    if wanted < 0 or wanted != wanted:
        raise ValueError(
            f"{job.period_env}={text!r}: give whole seconds between runs of the {job.name} "
            "job (0 turns it off)"
        )
    if wanted == 0:
        return 0
    taken = max([p for p in PERIODS if p <= wanted], default=PERIODS[0])
    if taken != wanted:
        log.warning(
            "%s=%s: the %s job runs every %d s (a period divides a minute, an hour or a day)",
            job.period_env,
            text,
            job.name,
            taken,
        )
    return taken


def scheduled(jobs: Iterable[PeriodicJob], env: Mapping[str, str]) -> list[Scheduled]:
    """The jobs that are on, with their periods."""
    found = [Scheduled(job, period(job, env)) for job in jobs]
    return [item for item in found if item.period > 0]
