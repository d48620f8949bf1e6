"""A failed run's retries: exponential, with a cap, the same on both runners, set from the
environment; and `accord jobs` lists every job of the node with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from procrastinate.jobs import Job

from accord.jobs.definitions import PERIODIC_JOBS
from accord.jobs.execution import Backoff
from accord.jobs.overview import overview
from accord.jobs.procrastinate_runner import CappedBackoff
from accord.store.node import Store


def test_the_default_is_two_retries_after_2_and_4_seconds() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in (1, 2, 3)] == [2.0, 4.0, None]


def test_delays_double_up_to_the_cap() -> None:
    backoff = Backoff.from_env(
        {
            "ACCORD_JOB_ATTEMPTS": "8",
            "ACCORD_JOB_RETRY_SECONDS": "5",
            "ACCORD_JOB_RETRY_MAX_SECONDS": "30",
        }
    )
    assert [backoff.delay(n) for n in range(1, 9)] == [5, 10, 20, 30, 30, 30, 30, None]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ACCORD_JOB_ATTEMPTS", "0", "whole number of runs"),
        ("ACCORD_JOB_ATTEMPTS", "2.5", "whole number of runs"),
        ("ACCORD_JOB_RETRY_SECONDS", "soon", "seconds before the first retry"),
        ("ACCORD_JOB_RETRY_MAX_SECONDS", "-1", "seconds between retries"),
    ],
)
def test_a_bad_setting_says_which(name: str, value: str, says: str) -> None:
    with pytest.raises(ValueError, match=f"{name}.*{says}"):
        Backoff.from_env({name: value})


def test_procrastinate_retries_by_the_same_backoff() -> None:
    strategy = CappedBackoff(Backoff(attempts=4, first=2, longest=3))

    def after(attempts: int) -> float | None:
        job = Job(id=1, queue="q", lock=None, queueing_lock=None, task_name="t", attempts=attempts)
        decision = strategy.get_retry_decision(exception=RuntimeError(), job=job)
        if decision is None:
            return None
        assert decision.retry_at is not None
        return round((decision.retry_at - datetime.now(UTC)).total_seconds())

    assert [after(n) for n in range(4)] == [2, 3, 3, None]


def test_accord_jobs_lists_every_job_with_the_backoff(sqlite_store: Store) -> None:
    seen = overview(sqlite_store, env={"ACCORD_JOB_RETRY_MAX_SECONDS": "60"})
    assert seen["backend"] == "in-process"
    assert seen["backoff"] == {"attempts": 3, "first": 2.0, "longest": 60.0}
    assert [(row["name"], row["period_env"]) for row in seen["periodic"]] == [
        (job.name, job.period_env) for job in PERIODIC_JOBS
    ]
    assert all(row["queued"] == {} and row["runs"] == 0 for row in seen["periodic"])
    assert seen["recent"] == []
