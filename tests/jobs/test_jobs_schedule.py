"""Periods: read from the environment, 0 turns a job off, taken to one procrastinate's cron
can say (dividing a minute, an hour or a day), numbered alike on both backends."""

from __future__ import annotations

import pytest

from accord.jobs.definitions import PERIODIC_JOBS, run_due_peers
from accord.jobs.schedule import Scheduled, mode, period, scheduled
from accord.settings import Settings
from accord.store.node import Store

FEEDS, PEERS, WEBHOOKS, WARNINGLISTS, DECAY, CORRELATION = PERIODIC_JOBS


def test_the_nodes_jobs_and_their_default_periods() -> None:
    assert [(job.name, job.period_env) for job in PERIODIC_JOBS] == [
        ("feeds", "ACCORD_FEED_POLL_SECONDS"),
        ("peers", "ACCORD_PEER_POLL_SECONDS"),
        ("webhooks", "ACCORD_WEBHOOK_POLL_SECONDS"),
        ("warninglists", "ACCORD_WARNINGLISTS_REFRESH_SECONDS"),
        ("decay", "ACCORD_DECAY_POLL_SECONDS"),
        ("correlation", "ACCORD_CORRELATION_POLL_SECONDS"),
    ]
    assert [item.period for item in scheduled(PERIODIC_JOBS, {})] == [30, 30, 10, 300, 60, 10]


def test_zero_turns_a_job_off() -> None:
    found = scheduled(PERIODIC_JOBS, {"ACCORD_FEED_POLL_SECONDS": "0"})
    assert [item.job.name for item in found] == [
        "peers",
        "webhooks",
        "warninglists",
        "decay",
        "correlation",
    ]


@pytest.mark.parametrize(
    ("given", "taken", "cron"),
    [
        ("1", 1, "* * * * * */1"),
        ("30", 30, "* * * * * */30"),
        ("45", 30, "* * * * * */30"),
        ("0.5", 1, "* * * * * */1"),
        ("60", 60, "*/1 * * * *"),
        ("300", 300, "*/5 * * * *"),
        ("3600", 3600, "0 */1 * * *"),
        ("86400", 86400, "0 0 * * *"),
        ("999999", 86400, "0 0 * * *"),
    ],
)
def test_a_period_is_one_cron_can_say(given: str, taken: int, cron: str) -> None:
    assert period(FEEDS, {FEEDS.period_env: given}) == taken
    assert Scheduled(FEEDS, taken).cron == cron


@pytest.mark.parametrize("given", ["-1", "soon", "nan"])
def test_a_bad_period_says_how_to_fix_it(given: str) -> None:
    with pytest.raises(ValueError, match=r"ACCORD_FEED_POLL_SECONDS.*whole seconds.*0 turns"):
        period(FEEDS, {FEEDS.period_env: given})


def test_ticks_number_the_periods_from_the_epoch() -> None:
    item = Scheduled(FEEDS, 30)
    assert item.tick(60.0) == item.tick(89.9) == 2
    assert item.next_start(61.0) == 90.0


def test_the_mode_is_auto_in_process_or_off() -> None:
    assert mode({}) == "auto"
    assert mode({"ACCORD_JOBS": "in-process"}) == "in-process"
    assert mode({"ACCORD_JOBS": "0"}) == mode({"ACCORD_JOBS": "off"}) == "off"
    with pytest.raises(ValueError, match=r"auto.*in-process.*off"):
        mode({"ACCORD_JOBS": "sometimes"})


def test_the_peers_job_runs_the_due_peers(sqlite_store: Store) -> None:
    assert run_due_peers(sqlite_store, Settings()) == {"runs": 0, "errors": 0}
