"""The periodic jobs of a node, each a plain function of the store and the settings, listed
once in `PERIODIC_JOBS`: both runners (procrastinate on PostgreSQL, in-process on SQLite) run
this list. A job is idempotent: a period run twice (a retry, a second worker) does no harm,
because the work it claims is claimed in the database (`Feeds.claim_due`, say).

To add one: write ``def job(store: Store, settings: Settings) -> object`` where its work
lives, and add a `PeriodicJob` line here with the environment variable that sets its period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from accord.federation import peer_sync
from accord.federation.feed_scheduler import pull_due_feeds
from accord.federation.webhooks import deliver_due_webhooks
from accord.intel.warninglists.refresh import refresh_warninglists
from accord.settings import Settings
from accord.store.correlation_backlog import backlog_size, catch_up
from accord.store.expiry import expire_due
from accord.store.node import Store

__all__ = [
    "PERIODIC_JOBS",
    "PeriodicJob",
    "correlate_backlog",
    "deliver_due_webhooks",
    "mark_expired",
    "pull_due_feeds",
    "refresh_warninglists",
    "run_due_peers",
]

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
    backlog: Callable[[Store], int] | None = None
    """How much work waits for it, for ``accord jobs`` (None: nothing waits)."""


def run_due_peers(store: Store, settings: Settings) -> object:
    """Pull from and push to the peers whose interval has passed (each run under its own
    lease, recorded and audited: accord.federation.peer_sync)."""
    del settings  # a peer's runs depend on the peer's own record
    reports = peer_sync.run_due(store)
    return {"runs": len(reports), "errors": sum(1 for r in reports if r.error)}


def correlate_backlog(store: Store, settings: Settings) -> object:
    """Correlate the versions a bulk load left uncorrelated, a chunk per transaction, for
    20 s at most (accord.store.correlation_backlog)."""
    del settings  # the policy is the node's (its correlation cap)
    return catch_up(store.engine)


def mark_expired(store: Store, settings: Settings) -> object:
    """Mark the latest indicators whose valid_until passed since the last run, so that the
    exports' serials and ETags and the matchers see the change (accord.store.expiry)."""
    del settings
    done = expire_due(store.engine)
    if done.versions:
        log.info("%d indicator(s) expired (mark %s)", done.versions, done.mark)
    return {"expired": done.versions, "up_to": done.up_to}


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
    PeriodicJob(
        "webhooks",
        deliver_due_webhooks,
        "ACCORD_WEBHOOK_POLL_SECONDS",
        default_period=10,
        summary="deliver what is new to the webhooks that are due (each claimed, retried "
        "with its own backoff)",
    ),
    PeriodicJob(
        "warninglists",
        refresh_warninglists,
        "ACCORD_WARNINGLISTS_REFRESH_SECONDS",
        default_period=300,
        summary="compile the warninglists anew when their files changed; the node's "
        "processes then take them",
    ),
    PeriodicJob(
        "decay",
        mark_expired,
        "ACCORD_DECAY_POLL_SECONDS",
        default_period=60,
        summary="mark the indicators whose valid_until passed, so that exports' serials "
        "and ETags and the matchers move",
    ),
    PeriodicJob(
        "correlation",
        correlate_backlog,
        "ACCORD_CORRELATION_POLL_SECONDS",
        default_period=10,
        summary="correlate the versions stored with --defer-correlation (the backlog), "
        "a chunk per transaction",
        backlog=lambda store: backlog_size(store.engine),
    ),
)
