"""procrastinate on PostgreSQL: its tables land in the node's schema (installed once, however
many workers start), periodic jobs run each period once however many workers there are, a
failure is retried and recorded while the other jobs go on, and `accord jobs` reads the
queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from jobs_support import ENV, Counter, Failing, job
from sqlalchemy import create_engine, text

from accord.jobs.overview import overview
from accord.jobs.procrastinate_runner import ProcrastinateRunner, migrations, prepare, queue_name
from accord.jobs.runner import runner
from accord.settings import Settings
from accord.store import job_queue
from accord.store.node import Store

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_schema_url: str) -> Iterator[Store]:
    node = Store.open(pg_schema_url)
    node.init()
    try:
        yield node
    finally:
        node.close()


def _runner(store: Store, jobs: list, env: dict[str, str] | None = None) -> ProcrastinateRunner:
    found = runner(store, Settings(), env or ENV, jobs)
    assert isinstance(found, ProcrastinateRunner)
    return found


async def _run_until(done: Callable[[], bool], *runners: ProcrastinateRunner) -> None:
    """Run the workers until ``done`` (a machine under load may take seconds to start them),
    for 20 s at most."""
    for r in runners:
        r.start()
    end = time.monotonic() + 20
    while not done() and time.monotonic() < end:
        await asyncio.sleep(0.05)
    for r in runners:
        await r.stop()


def test_procrastinate_lands_in_the_nodes_schema_once(pg_store: Store, pg_schemas) -> None:
    schema = job_queue.current_schema(pg_store.engine)
    assert not job_queue.installed(pg_store.engine)
    assert prepare(pg_store) == queue_name(schema) == f"accord.{schema}"
    assert job_queue.installed(pg_store.engine)
    done = job_queue.install(pg_store.engine, "SELECT 1/0", migrations())  # not run again
    assert done == f"procrastinate's schema in {schema} is up to date"
    with pg_store.engine.connect() as conn:
        where = (
            conn.execute(
                text(
                    "SELECT table_schema FROM information_schema.tables WHERE table_name = 'procrastinate_jobs'"
                )
            )
            .scalars()
            .all()
        )
    assert schema in where
    # Another node's schema in the same database has none of it.
    other = Store.open(pg_schemas())
    try:
        assert not job_queue.installed(other.engine)
    finally:
        other.close()


def test_a_newer_procrastinate_applies_only_its_newer_migrations(pg_store: Store) -> None:
    prepare(pg_store)
    newer = job_queue.Migration("99.00.00_01_test", "CREATE TABLE accord_test_migration (x int)")
    done = job_queue.install(pg_store.engine, "SELECT 1/0", [*migrations(), newer])
    assert done.startswith("applied 1 procrastinate migrations")
    done = job_queue.install(pg_store.engine, "SELECT 1/0", [*migrations(), newer])
    assert done.endswith("is up to date")


def test_tables_not_installed_by_accord_are_refused_with_a_way_out(pg_store: Store) -> None:
    prepare(pg_store)
    with pg_store.engine.begin() as conn:
        conn.execute(text("COMMENT ON TABLE procrastinate_jobs IS NULL"))
    with pytest.raises(ValueError, match=r"not installed by Accord.*COMMENT ON TABLE"):
        prepare(pg_store)


def test_a_periodic_job_runs_and_accord_jobs_lists_it(pg_store: Store) -> None:
    counter = Counter()
    found = _runner(pg_store, [job("tick", counter, "TEST_JOB_SECONDS")])
    asyncio.run(_run_until(lambda: counter.count >= 2, found))
    assert counter.count >= 2
    seen = overview(pg_store, 50, ENV, [job("tick", counter, "TEST_JOB_SECONDS")])
    assert seen["backend"] == "procrastinate"
    [periodic] = seen["periodic"]
    assert (periodic["name"], periodic["period"], periodic["runs"]) == ("tick", 1, counter.count)
    ran = [j for j in seen["recent"] if j["task"] == "accord.tick" and j["status"] == "succeeded"]
    assert len(ran) == counter.count
    assert all(j["started"] and j["ended"] for j in ran)


def test_a_failing_job_is_retried_and_recorded_and_the_others_go_on(pg_store: Store) -> None:
    failing, steady = Failing(), Counter()
    env = {**ENV, "TEST_FAILING_SECONDS": "30"}
    jobs = [job("broken", failing, "TEST_FAILING_SECONDS"), job("tick", steady, "TEST_JOB_SECONDS")]
    asyncio.run(
        _run_until(lambda: failing.count >= 2 and steady.count >= 3, _runner(pg_store, jobs, env))
    )
    assert failing.count == 2  # at once, then 2 s later (RetryStrategy)
    assert failing.times[1] - failing.times[0] >= 1.9
    assert steady.count >= 3
    broken = pg_store.job_runs.get("broken")
    assert (broken.runs, broken.failures, broken.error) == (2, 2, "RuntimeError: the peer is down")
    seen = overview(pg_store, 50, env, jobs)
    [queued] = [j for j in seen["recent"] if j["task"] == "accord.broken"]
    assert queued["attempts"] == 2 and queued["status"] == "todo"  # its last retry waits
    by_name = {row["name"]: row for row in seen["periodic"]}
    assert by_name["broken"]["queued"] == {"todo": 1}
    assert by_name["tick"]["queued"].get("succeeded", 0) >= 3


def test_two_workers_over_one_database_run_each_period_once(pg_store: Store) -> None:
    counter = Counter()
    jobs = [job("tick", counter, "TEST_JOB_SECONDS")]
    second = Store.open(pg_store.engine.url.render_as_string(hide_password=False))
    try:
        workers = _runner(pg_store, jobs), _runner(second, jobs)
        asyncio.run(_run_until(lambda: counter.count >= 4, *workers))
    finally:
        second.close()
    with pg_store.engine.connect() as conn:
        jobs_, periods = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT args->>'timestamp') "
                "FROM procrastinate_jobs WHERE task_name = 'accord.tick' AND status = 'succeeded'"
            )
        ).one()
    assert jobs_ == periods == counter.count >= 4  # one job a period, each run once


def test_a_schema_dropped_with_cascade_takes_procrastinate_with_it(pg_schemas) -> None:
    url = pg_schemas()
    node = Store.open(url)
    node.init()
    prepare(node)
    schema = job_queue.current_schema(node.engine)
    node.close()
    admin = create_engine(url.split("?")[0].replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))  # the fixture drops it again
            left = conn.execute(
                text(
                    "SELECT count(*) FROM pg_type WHERE typname = 'procrastinate_job_status' AND typnamespace = to_regnamespace(:s)"
                ),
                {"s": schema},
            ).scalar()
        assert left == 0
    finally:
        admin.dispose()
