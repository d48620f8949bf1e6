"""The warninglists follow their source on disk: the background job (``warninglists``)
compiles a changed set once, on SQLite (in-process) and PostgreSQL (procrastinate), and a
process's lists (`BenignLists.follow`) take the new index without a restart, never compiling
on a request's path; run again, the job does nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import orjson
import pytest

from accord.intel.benign import BenignLists
from accord.intel.warninglists.refresh import refresh_warninglists
from accord.intel.warninglists.source import default_source
from accord.jobs.runner import runner
from accord.settings import Settings
from accord.store.node import Store

ENV = {
    "ACCORD_JOBS": "auto",
    "ACCORD_WARNINGLISTS_REFRESH_SECONDS": "1",
    "ACCORD_FEED_POLL_SECONDS": "0",
    "ACCORD_PEER_POLL_SECONDS": "0",
    "ACCORD_WEBHOOK_POLL_SECONDS": "0",
    "ACCORD_DECAY_POLL_SECONDS": "0",
    "ACCORD_CORRELATION_POLL_SECONDS": "0",
}


def _write_list(root: Path, name: str, entries: list[str]) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    document = {"name": name, "type": "cidr", "list": entries, "description": name}
    (root / name / "list.json").write_bytes(orjson.dumps(document))


@pytest.fixture
def lists_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "lists"
    _write_list(folder, "nets", ["203.0.113.0/24"])
    monkeypatch.setenv("ACCORD_WARNINGLISTS_DIR", str(folder))
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))
    return folder


def _run_job(store: Store) -> None:
    """The node's warninglists job, through the node's runner, until it ran once."""
    found = runner(store, Settings(), ENV)
    assert found is not None and [item.job.name for item in found.jobs] == ["warninglists"]
    before = store.job_runs.get("warninglists").runs

    async def run() -> None:
        found.start()
        end = time.monotonic() + 20
        while store.job_runs.get("warninglists").runs == before and time.monotonic() < end:
            await asyncio.sleep(0.05)
        await found.stop()

    asyncio.run(run())
    run_ = store.job_runs.get("warninglists")
    assert run_.runs > before and run_.error is None


def test_a_changed_list_is_compiled_by_the_job_and_taken_by_the_process(
    store: Store, lists_dir: Path
) -> None:
    lists = BenignLists.load(store)
    assert lists.warninglisted("203.0.113.9")
    first = lists.version

    _write_list(lists_dir, "nets", ["198.51.100.0/24", "192.0.2.0/24"])
    # Not compiled yet: the process keeps its lists (and compiles nothing itself).
    assert not lists.follow(force=True)
    assert lists.version == first and lists.warninglisted("203.0.113.9")

    _run_job(store)
    assert lists.follow(force=True)
    assert lists.version != first
    assert not lists.warninglisted("203.0.113.9")  # the remembered answers went too
    assert lists.warninglisted("198.51.100.9")
    assert not lists.follow(force=True)  # nothing newer

    # Run again, the job compiles nothing: the index is there.
    again = refresh_warninglists(store, Settings())
    assert again == {"used": True, "built": False, "index": lists.version}


def test_follow_looks_at_most_every_so_often(sqlite_store: Store, lists_dir: Path) -> None:
    lists = BenignLists.load(sqlite_store)
    _write_list(lists_dir, "nets", ["198.51.100.0/24"])
    refresh_warninglists(sqlite_store, Settings())
    assert not lists.follow()  # loaded a moment ago: not time to look yet
    assert lists.follow(force=True)


def test_lists_that_break_the_nodes_classes_are_not_taken(
    sqlite_store: Store, lists_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lists = BenignLists.load(sqlite_store, classes=[("nets", "benign")])
    (lists_dir / "nets" / "list.json").unlink()
    (lists_dir / "nets").rmdir()
    _write_list(lists_dir, "other", ["198.51.100.0/24"])
    refresh_warninglists(sqlite_store, Settings())
    with caplog.at_level(logging.ERROR, logger="accord.intel.benign"):
        assert not lists.follow(force=True)
    assert "not taken" in caplog.text and "'nets'" in caplog.text
    assert lists.warninglisted("203.0.113.9")  # the lists in use stay


def test_a_node_without_warninglists_compiles_nothing(sqlite_store: Store) -> None:
    assert refresh_warninglists(sqlite_store, Settings(warninglists=False)) == {"used": False}


def test_a_lists_folder_that_is_not_there_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"ACCORD_WARNINGLISTS_DIR.*not a folder"):
        default_source({"ACCORD_WARNINGLISTS_DIR": str(tmp_path / "nope")})
