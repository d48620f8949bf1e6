"""Starting the node's background jobs: procrastinate on PostgreSQL, in-process on SQLite (or
anywhere with ``ACCORD_JOBS=in-process``), none with ``ACCORD_JOBS=0`` or when every job's
period is 0. `accord serve` starts them beside the API (`start_background`); `accord worker`
runs them alone until stopped (`run_until`)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from accord.jobs.definitions import PERIODIC_JOBS, PeriodicJob
from accord.jobs.execution import Backoff
from accord.jobs.in_process import InProcessRunner
from accord.jobs.schedule import Scheduled, mode, scheduled
from accord.settings import Settings
from accord.store.node import Store

if TYPE_CHECKING:
    from accord.jobs.procrastinate_runner import ProcrastinateRunner


class Runner(Protocol):
    backend: str
    jobs: list[Scheduled]

    async def stop(self) -> None: ...


def backend(store: Store, env: Mapping[str, str]) -> str:
    """``procrastinate``, ``in-process`` or ``off``: what runs the jobs of ``store``."""
    chosen = mode(env)
    if chosen == "off":
        return "off"
    if chosen == "auto" and store.engine.dialect.name == "postgresql":
        return "procrastinate"
    return "in-process"


def runner(
    store: Store,
    settings: Settings,
    env: Mapping[str, str] | None = None,
    jobs: Iterable[PeriodicJob] = PERIODIC_JOBS,
) -> InProcessRunner | ProcrastinateRunner | None:
    """The runner for this node, not started; None when there is nothing to run."""
    env = os.environ if env is None else env
    chosen = backend(store, env)
    found = scheduled(jobs, env)
    if chosen == "off" or not found:
        return None
    backoff = Backoff.from_env(env)
    if chosen == "procrastinate":
        # Imported here: a node on SQLite never loads procrastinate.
        from accord.jobs.procrastinate_runner import ProcrastinateRunner

        return ProcrastinateRunner(store, settings, found, backoff)
    return InProcessRunner(store, settings, found, backoff)


def start_background(
    store: Store,
    settings: Settings,
    env: Mapping[str, str] | None = None,
    jobs: Iterable[PeriodicJob] = PERIODIC_JOBS,
) -> Runner | None:
    """Start the jobs as tasks of the running event loop; `Runner.stop` ends them."""
    found = runner(store, settings, env, jobs)
    return None if found is None else found.start()


async def run_until(
    stop: asyncio.Event,
    store: Store,
    settings: Settings,
    env: Mapping[str, str] | None = None,
    jobs: Iterable[PeriodicJob] = PERIODIC_JOBS,
) -> None:
    """Run the jobs until ``stop`` is set (a signal, in `accord worker`). A worker that
    cannot start (procrastinate's schema cannot be installed, the database is gone) raises."""
    found = runner(store, settings, env, jobs)
    if found is None:
        await stop.wait()
        return
    if isinstance(found, InProcessRunner):
        found.start()
        try:
            await stop.wait()
        finally:
            await found.stop()
        return
    await found.run(stop)
