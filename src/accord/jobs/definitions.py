"""The periodic jobs of a node, each a plain function of the store and the settings, listed
once in `PERIODIC_JOBS`: both runners (procrastinate on PostgreSQL, in-process on SQLite) run
this list. A job is idempotent: a period run twice (a retry, a second worker) does no harm,
because the work it claims is claimed in the database (`Feeds.claim_due`, say).

To add one: write ``def job(store: Store, settings: Settings) -> object`` where its work
lives, and add a `PeriodicJob` line here with the environment variable that sets its period.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import cast

from accord.federation.feed_scheduler import pull_due_feeds
from accord.settings import Settings
from accord.store.node import Store

__all__ = ["PERIODIC_JOBS", "PeriodicJob", "pull_due_feeds", "run_due_peers"]

log = logging.getLogger("accord.jobs")

JobFunction = Callable[[Store, Settings], object]


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every period."""

    name: str
    """Short and stable: procrastinate's task is ``accord.<name>``, its record in the store
    ``job:<name>`` (`accord.store.job_runs`)."""
    run: JobFunction
    """Does the work once; an exception is a failed run (logged, recorded, retried)."""
    period_env: str
    """The environment variable giving the period in seconds (0 turns the job off)."""
    default_period: int = 30
    summary: str = ""
    """What it does, for ``accord jobs``."""


_PEER_SYNC = "accord.federation.peer_sync"


@functools.cache
def _peer_sync() -> ModuleType | None:
    """Federation's peer module, once it exists (issue 18): until then the peers job does
    nothing, and says so once per process."""
    try:
        return importlib.import_module(_PEER_SYNC)
    except ModuleNotFoundError as exc:
        if exc.name != _PEER_SYNC:
            raise  # the module is there but something it imports is not: a real error
        log.info(
            "peer synchronisation is not built yet (no %s): the peers job is skipped", _PEER_SYNC
        )
        return None


def run_due_peers(store: Store, settings: Settings) -> object:
    """Pull from and push to the peers that are due (federation's ``run_due``)."""
    module = _peer_sync()
    if module is None:
        return None
    run_due = cast(JobFunction, module.run_due)
    return run_due(store, settings)


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        "feeds",
        pull_due_feeds,
        "ACCORD_FEED_POLL_SECONDS",
        summary="pull the TAXII feeds whose interval has passed",
    ),
    PeriodicJob(
        "peers",
        run_due_peers,
        "ACCORD_PEER_POLL_SECONDS",
        summary="pull from and push to the peer nodes that are due",
    ),
)
