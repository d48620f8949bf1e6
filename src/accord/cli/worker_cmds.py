"""``accord worker`` (the node's background jobs, in the foreground) and ``accord jobs``
(what they did): docs/jobs.md."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    JsonOpt,
    console,
    fail,
    node_settings,
    open_store,
    print_json,
)
from accord.cli.display import shown
from accord.jobs.definitions import PERIODIC_JOBS
from accord.jobs.overview import overview
from accord.jobs.runner import run_until, runner
from accord.settings import Settings
from accord.store.node import Store


def worker(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each job's start and end.")
    ] = False,
) -> None:
    """Run the node's background jobs (scheduled feed pulls, peer synchronisation, webhook
    deliveries, warninglist refresh) until Ctrl-C or SIGTERM: procrastinate on PostgreSQL
    (any number of workers, each period run once), in-process on SQLite. `accord serve`
    runs them too, unless given --no-jobs."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("procrastinate").setLevel(logging.INFO if verbose else logging.WARNING)
    with open_store() as store:
        settings = node_settings(store)
        try:
            found = runner(store, settings)
        except ValueError as exc:  # a period or backoff the environment gets wrong
            fail(str(exc))
        if found is None:
            names = ", ".join(job.period_env for job in PERIODIC_JOBS)
            fail(f"nothing to run: ACCORD_JOBS is off, or every job's period is 0 ({names})")
        every = ", ".join(f"{item.job.name} every {item.period} s" for item in found.jobs)
        console.print(f"Accord worker ({found.backend}): {every}. Ctrl-C stops it.")
        try:
            asyncio.run(_until_signalled(store, settings))
        except Exception as exc:  # the worker could not start, or lost its database
            fail(f"the worker stopped: {exc}", code=1)
    console.print("Accord worker stopped.")


async def _until_signalled(store: Store, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_until(stop, store, settings)


def jobs(
    limit: Annotated[int, typer.Option(help="Recent jobs to list (PostgreSQL).", min=1)] = 20,
    json: JsonOpt = False,
) -> None:
    """Every background job of the node: its period, last run, runs, failures and last
    error, the retry backoff, and on PostgreSQL its jobs in procrastinate's queue (by
    status) and the most recent of them."""
    with open_store() as store:
        try:
            found = overview(store, limit)
        except ValueError as exc:  # a period or backoff the environment gets wrong
            fail(str(exc))
    if json:
        print_json(found)
        return
    backoff = found["backoff"]
    console.print(
        f"Background jobs run by: {found['backend']}; a failed run is tried "
        f"{backoff['attempts']} times in all, {backoff['first']:g} s apart, then twice as "
        f"long each time, at most {backoff['longest']:g} s"
    )
    queued = found["recent"] or any(row["queued"] for row in found["periodic"])
    columns = ["job", "every", "last started", "last finished", "runs", "failures", "waiting"]
    table = Table(*columns, "error", *(["queue"] if queued else []))
    for row in found["periodic"]:
        cells = [
            shown(row["name"]),
            f"{row['period']} s" if row["period"] else f"off ({row['period_env']}=0)",
            shown(row["last_started"] or "-"),
            shown(row["last_finished"] or ("running" if row["running"] else "-")),
            str(row["runs"]),
            str(row["failures"]),
            "" if row["backlog"] is None else str(row["backlog"]),
            shown(row["last_error"] or ""),
        ]
        if queued:
            cells.append(", ".join(f"{n} {status}" for status, n in row["queued"].items()))
        table.add_row(*cells)
    console.print(table)
    if found["recent"]:
        recent = Table("id", "task", "status", "attempts", "scheduled", "started", "ended")
        for job in found["recent"]:
            recent.add_row(
                str(job["id"]),
                shown(job["task"]),
                shown(job["status"]),
                str(job["attempts"]),
                shown(job["scheduled_at"] or "-"),
                shown(job["started"] or "-"),
                shown(job["ended"] or "-"),
            )
        console.print(recent)
