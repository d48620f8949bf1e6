"""SQLite WAL checkpoints run on a background thread after a commit has grown the log, so
that a large bundle's commit does not also copy the whole log into the database file."""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store import checkpoint
from accord.store.audit import Event
from accord.store.engine_state import engine_state
from accord.store.node import Store
from accord.store.organisations import User


def _rows_in_main_file(db: Path, tmp_path: Path) -> int:
    """Objects in the database file alone, as if the log were lost: what was checkpointed."""
    copy = tmp_path / f"copy-{uuid.uuid4().hex}.db"
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM objects").fetchone()[0])
        except sqlite3.OperationalError:  # not even the schema is in the file yet
            return 0


def _bundle(count: int) -> list[dict[str, object]]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid4()}",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '203.0.113.{n % 250}']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00.000Z",
        }
        for n in range(count)
    ]


def _store_with_analyst(db: Path) -> tuple[Store, User]:
    store = Store.open(f"sqlite:///{db}")
    store.init()
    user, _ = store.directory.add_user(
        "a@cert.example", store.directory.add_org("CERT").name, Role.ANALYST
    )
    return store, user


def test_a_grown_log_is_checkpointed_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "accord.db"
    store, user = _store_with_analyst(db)
    try:
        before = _rows_in_main_file(db, tmp_path)
        monkeypatch.setattr(checkpoint, "WAKE_BYTES", 0)
        report = Ingester(store, user).ingest_objects(
            _bundle(200), "2.1", "test", IngestOptions(tlp=Tlp.GREEN)
        )
        assert report.count("stored") == 200
        deadline = time.monotonic() + 10
        while _rows_in_main_file(db, tmp_path) < before + 200:
            assert time.monotonic() < deadline, "the log was not checkpointed"
            time.sleep(0.05)
    finally:
        store.close()


def test_a_small_log_waits_and_closing_checkpoints(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    store, user = _store_with_analyst(db)
    report = Ingester(store, user).ingest_objects(
        _bundle(5), "2.1", "test", IngestOptions(tlp=Tlp.GREEN)
    )
    assert report.count("stored") == 5
    store.close()  # the last connection to close checkpoints what is left
    assert _rows_in_main_file(db, tmp_path) >= 5


def test_small_commits_after_a_checkpoint_do_not_each_wake_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite keeps a log file at its largest and writes over it from the start: unless the
    file is cut back, its size stays past WAKE_BYTES and every later commit (an audited
    look-up, say) would start a checkpoint and its sync."""
    monkeypatch.setattr(checkpoint, "WAKE_BYTES", 1 << 20)
    monkeypatch.setattr(checkpoint, "KEEP_BYTES", 0)
    db = tmp_path / "accord.db"
    store, user = _store_with_analyst(db)
    try:
        Ingester(store, user).ingest_objects(
            _bundle(2000), "2.1", "test", IngestOptions(tlp=Tlp.GREEN)
        )
        checkpointer = engine_state(store.engine).checkpointer
        assert checkpointer is not None
        deadline = time.monotonic() + 10
        while checkpointer.runs == 0:
            assert time.monotonic() < deadline, "the grown log was not checkpointed"
            time.sleep(0.02)
        time.sleep(0.2)  # let that checkpoint finish
        runs = checkpointer.runs
        for number in range(10):  # each a small commit of its own, a moment apart
            store.audit.append(Event("admin", None, None, f"small {number}"))
            time.sleep(0.02)
        time.sleep(0.2)
        # Ten commits of a few pages each stay under WAKE_BYTES: one more run at most (the
        # first commit may find the last checkpoint unfinished).
        assert checkpointer.runs - runs <= 1
        assert (db.parent / "accord.db-wal").stat().st_size < checkpoint.WAKE_BYTES
    finally:
        store.close()


def test_a_steady_stream_of_commits_has_the_log_started_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits that follow each other closely (audited look-ups under load) land while a
    passive checkpoint copies the log: it never catches up with the last frame, so the log
    was never started over and grew without end (to 12 MB here), and every commit woke
    another checkpoint with its syncs. The log must be started over, each wake earned."""
    monkeypatch.setattr(checkpoint, "WAKE_BYTES", 256 << 10)
    monkeypatch.setattr(checkpoint, "RESTART_BYTES", 1 << 20)
    monkeypatch.setattr(checkpoint, "KEEP_BYTES", 0)
    monkeypatch.setattr(checkpoint, "SMALL_COMMITS_PER_LOOK", 1)  # every commit looks
    db = tmp_path / "accord.db"
    store, _ = _store_with_analyst(db)
    try:
        checkpointer = engine_state(store.engine).checkpointer
        assert checkpointer is not None
        largest = 0
        for number in range(1000):  # 12 MB of log if it were never started over
            store.audit.append(Event("admin", None, None, f"entry {number}"))
            time.sleep(0.0003)  # as a look-up's own work between its commits
            largest = max(largest, (db.parent / "accord.db-wal").stat().st_size)
        # A wake per 256 KiB of log at most (1,000 commits of three 4 KiB pages: about 45).
        assert checkpointer.runs <= 60, checkpointer.runs
        assert largest < 4 * checkpoint.RESTART_BYTES, largest
    finally:
        store.close()


def test_small_commits_look_at_the_log_once_in_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audited look-up commits a few pages: it need not pay a stat of the log each time."""
    monkeypatch.setattr(checkpoint, "WAKE_BYTES", 0)  # every look wakes the thread
    db = tmp_path / "accord.db"
    store, _ = _store_with_analyst(db)
    try:
        checkpointer = engine_state(store.engine).checkpointer
        assert checkpointer is not None
        time.sleep(0.2)  # the set-up's own commits woke it: let those runs end
        runs = checkpointer.runs
        for number in range(2 * checkpoint.SMALL_COMMITS_PER_LOOK):
            store.audit.append(Event("admin", None, None, f"entry {number}"))
            time.sleep(0.01)  # each wake would be a run of its own
        time.sleep(0.2)
        assert 1 <= checkpointer.runs - runs <= 2
    finally:
        store.close()
