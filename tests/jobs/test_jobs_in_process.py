"""The in-process runner (SQLite's, and PostgreSQL's with ACCORD_JOBS=in-process): periodic
jobs run each period, a failure is retried, recorded and logged without stopping the others,
and two runners over one database run each period once (the lease of store/job_runs.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from jobs_support import ENV, Counter, Failing, job

from accord.jobs.definitions import PERIODIC_JOBS, PeriodicJob
from accord.jobs.in_process import InProcessRunner
from accord.jobs.runner import runner
from accord.settings import Settings
from accord.store.node import Store

IN_PROCESS = {**ENV, "ACCORD_JOBS": "in-process"}


async def _run_for(seconds: float, *runners: InProcessRunner) -> None:
    for r in runners:
        r.start()
    await asyncio.sleep(seconds)
    for r in runners:
        await r.stop()


async def _run_until(done: Callable[[], bool], *runners: InProcessRunner) -> None:
    """Run until ``done`` (a loaded machine is slow), for 20 s at most."""
    for r in runners:
        r.start()
    end = time.monotonic() + 20
    while not done() and time.monotonic() < end:
        await asyncio.sleep(0.05)
    for r in runners:
        await r.stop()


def _in_process(store: Store, env: dict[str, str], jobs: list[PeriodicJob]) -> InProcessRunner:
    found = runner(store, Settings(), env, jobs)
    assert isinstance(found, InProcessRunner)
    return found


def test_a_periodic_job_runs_every_period_and_is_recorded(store: Store) -> None:
    counter = Counter()
    found = _in_process(store, IN_PROCESS, [job("tick", counter, "TEST_JOB_SECONDS")])
    began = time.time()
    asyncio.run(_run_for(2.6, found))
    ended = time.time()
    # The current second's period at once, then one a second: never more.
    assert 2 <= counter.count <= int(ended) - int(began) + 1
    run = store.job_runs.get("tick")
    assert (run.runs, run.failures, run.error, run.running_until) == (counter.count, 0, None, None)
    assert run.started is not None and run.finished is not None


def test_a_failing_job_is_retried_recorded_and_logged_and_the_others_go_on(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    failing, steady = Failing(), Counter()
    env = {**IN_PROCESS, "TEST_FAILING_SECONDS": "5"}
    jobs = [job("broken", failing, "TEST_FAILING_SECONDS"), job("tick", steady, "TEST_JOB_SECONDS")]
    found = _in_process(store, env, jobs)
    with caplog.at_level(logging.ERROR, logger="accord.jobs"):
        asyncio.run(_run_until(lambda: failing.count >= 2 and steady.count >= 3, found))
    # Tried at once, then again 2 s later, unless the next 5 s period began first.
    assert failing.count >= 2
    for before, after in zip(failing.times, failing.times[1:], strict=False):
        assert after - before >= 1.9 or after % 5 < 0.5
    assert steady.count >= 3
    broken = store.job_runs.get("broken")
    assert broken.failures == broken.runs == failing.count
    assert broken.error == "RuntimeError: the peer is down"
    assert "job broken failed" in caplog.text and "the peer is down" in caplog.text


def test_two_runners_over_one_database_run_each_period_once(store: Store) -> None:
    counter = Counter()
    jobs = [job("tick", counter, "TEST_JOB_SECONDS")]
    first = _in_process(store, IN_PROCESS, jobs)
    second_store = Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        second = _in_process(second_store, IN_PROCESS, jobs)
        began = time.time()
        asyncio.run(_run_for(3.2, first, second))
        ended = time.time()
    finally:
        second_store.close()
    assert counter.count <= int(ended) - int(began) + 1  # one run a period, not two
    assert store.job_runs.get("tick").runs == counter.count


def test_a_period_taken_is_not_given_again_and_a_run_holds_the_lease(store: Store) -> None:
    runs = store.job_runs
    assert runs.claim("x", 10, 600)
    assert not runs.claim("x", 11, 600)  # still running
    runs.finished("x", None)
    assert not runs.claim("x", 10, 600)
    assert runs.claim("x", 10, 600, again=True)  # a retry of the same period
    runs.finished("x", "boom")
    assert runs.claim("x", 12, 600)
    assert not runs.claim("x", 10, 600, again=True)  # a later period was taken
    assert runs.claim("y", 1, 0)  # a lease of 0 s: the run died, the lease is over
    assert runs.claim("y", 2, 600)
    assert [r.name for r in runs.all()] == ["x", "y"]
    assert runs.get("x").error == "boom" and runs.get("x").failures == 1


def test_a_node_on_sqlite_runs_its_jobs_in_process(sqlite_store: Store) -> None:
    found = runner(sqlite_store, Settings(), {}, [job("tick", Counter(), "TEST_JOB_SECONDS")])
    assert found is not None and found.backend == "in-process"
    assert runner(sqlite_store, Settings(), {"ACCORD_JOBS": "off"}) is None
    every_job_off = {job.period_env: "0" for job in PERIODIC_JOBS}
    assert runner(sqlite_store, Settings(), every_job_off) is None
