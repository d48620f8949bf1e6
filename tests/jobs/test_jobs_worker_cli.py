"""`accord worker` as an operator runs it: in the foreground, running the node's jobs at once
and every period, stopped cleanly by Ctrl-C (SIGINT) or SIGTERM; `accord jobs` shows what
they did. On SQLite (in-process) and PostgreSQL (procrastinate)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from jobs_support import wait_for
from typer.testing import CliRunner

from accord.cli.main import app
from accord.jobs.definitions import PERIODIC_JOBS
from accord.store.node import Store

REPO = Path(__file__).resolve().parents[2]


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env.update(
        ACCORD_DATABASE_URL=url,
        ACCORD_FEED_POLL_SECONDS="1",
        ACCORD_PEER_POLL_SECONDS="1",
        ACCORD_JOBS="auto",
    )
    return env


@pytest.mark.slow  # a process of its own: some seconds to start
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_worker_runs_the_jobs_and_stops_on_a_signal(
    store_url: str, signum: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = Store.open(store_url)
    node.init()
    worker = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.main", "worker"],
        env=_env(store_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: node.job_runs.get("feeds").runs >= 2, 30), "no feeds job ran"
        assert worker.poll() is None
        began = time.monotonic()
        worker.send_signal(signum)
        out, err = worker.communicate(timeout=30)
        stopped_in = time.monotonic() - began
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, out + err
    assert "Accord worker (" in out and "feeds every 1 s, peers every 1 s" in out
    assert "Accord worker stopped." in out
    assert "Traceback" not in err
    assert stopped_in < 10
    runs = node.job_runs
    assert runs.get("feeds").failures == runs.get("peers").failures == 0
    assert runs.get("feeds").running_until is None
    node.close()

    for name, value in _env(store_url).items():
        if name.startswith("ACCORD_"):
            monkeypatch.setenv(name, value)
    shown = CliRunner().invoke(app, ["--db", store_url, "jobs", "--json"])
    assert shown.exit_code == 0, shown.output
    found = orjson.loads(shown.stdout)
    assert found["backend"] == (
        "procrastinate" if store_url.startswith("postgresql") else "in-process"
    )
    feeds = next(row for row in found["periodic"] if row["name"] == "feeds")
    assert feeds["runs"] >= 2 and feeds["period"] == 1 and feeds["last_error"] is None
    if found["backend"] == "procrastinate":
        assert {job["task"] for job in found["recent"]} >= {"accord.feeds", "accord.peers"}
    else:
        assert found["recent"] == []


def test_accord_jobs_reads_well_before_any_worker_ran(store_url: str) -> None:
    Store.open(store_url).init()
    shown = CliRunner().invoke(app, ["--db", store_url, "jobs"])
    assert shown.exit_code == 0, shown.output
    assert "feeds" in shown.stdout and "peers" in shown.stdout


def test_the_worker_with_nothing_to_run_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    Store.open(url).init()
    for job in PERIODIC_JOBS:
        monkeypatch.setenv(job.period_env, "0")
    done = CliRunner().invoke(app, ["--db", url, "worker"])
    assert done.exit_code == 2
    assert "nothing to run" in done.output
