"""``accord audit archive`` and ``accord audit verify --archive``: the file written, the live
log anchored, the exit codes (0 intact, 1 broken, 2 bad usage or a file that is no archive)
and the JSON. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from accord.cli.main import app
from accord.store import audit as audit_module
from accord.store.audit import AuditQuery, Event
from accord.store.node import Store
from accord.store.schema import audit_archives

runner = CliRunner()
ROOT = "root@node.example"
READER = "reader@node.example"


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    accord(store_url, "init")
    store = Store.open(store_url)
    try:  # the oldest entries first, as a log that has run for a while has them
        start = datetime.now(UTC) - timedelta(days=90)
        times = iter(
            (start + timedelta(minutes=i)).isoformat(timespec="microseconds")[:26] + "Z"
            for i in range(20)
        )
        monkeypatch.setattr(audit_module, "_now_key", lambda: next(times))
        for i in range(20):
            store.audit.append(Event("lookup", None, None, f"198.51.100.{i}"))
        monkeypatch.undo()
    finally:
        store.close()
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "user", "add", ROOT, "--org", "CERT-EX", "--role", "admin")
    accord(store_url, "user", "add", READER, "--org", "CERT-EX", "--role", "reader")
    yield store_url


def test_archive_then_verify(db: str, tmp_path: Path) -> None:
    path = tmp_path / "2026.accord-audit"
    said = accord(db, "audit", "archive", str(path), "--keep-days", "60", "--as", ROOT).stdout
    assert f"to {path}" in said and "the live log now starts after entry" in said
    assert path.exists()
    assert "intact" in accord(db, "audit", "verify").stdout
    checked = orjson.loads(accord(db, "audit", "verify", "--json").stdout)
    assert checked["ok"] and checked["archived_through"] is not None
    full = orjson.loads(accord(db, "audit", "verify", "--archive", str(path), "--json").stdout)
    assert full["ok"] and full["archives"][0]["ok"]
    assert full["archives"][0]["entries"] == full["archives"][0]["last_seq"]  # from entry 1
    text = accord(db, "audit", "verify", "--archive", str(path)).stdout
    assert "chain correctly from the first entry" in text
    store = Store.open(db)
    try:
        (entry,) = store.audit.newest(AuditQuery(action="admin", target="audit-archive"))
        assert entry.detail["actor"] == ROOT and entry.detail["file"] == path.name
    finally:
        store.close()


def test_bad_usage_and_refusals(db: str, tmp_path: Path) -> None:
    path = str(tmp_path / "a")
    accord(db, "audit", "archive", path, code=2)  # neither --before nor --keep-days
    accord(db, "audit", "archive", path, "--before", "2020-01-01", "--keep-days", "3", code=2)
    accord(db, "audit", "archive", path, "--before", "not a date", code=2)
    said = accord(db, "audit", "archive", path, "--keep-days", "5", code=2).stderr
    assert "--force" in said
    accord(db, "audit", "archive", path, "--keep-days", "60", "--as", READER, code=2)
    accord(db, "audit", "archive", path, "--before", "2000-01-01", code=2)  # nothing before
    accord(db, "audit", "verify", path, code=2)  # files without --archive
    accord(db, "audit", "verify", "--archive", code=2)  # --archive without files
    junk = tmp_path / "junk"
    junk.write_text("hello\n")
    said = accord(db, "audit", "verify", "--archive", str(junk), code=2).stderr
    assert "not an Accord audit archive" in said
    assert not Path(path).exists()


def test_broken_says_where(db: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a1", tmp_path / "a2"
    before = (datetime.now(UTC) - timedelta(days=90) + timedelta(minutes=9.5)).isoformat()
    accord(db, "audit", "archive", str(first), "--before", before)
    accord(db, "audit", "archive", str(second), "--keep-days", "60")
    accord(db, "audit", "verify", "--archive", str(first), str(second))
    missing = orjson.loads(
        accord(db, "audit", "verify", "--archive", str(second), "--json", code=1).stdout
    )
    assert not missing["ok"]
    assert missing["breaks"][0]["reason"] == "a2: entries 1 to 10 are in no archive given"
    said = accord(db, "audit", "verify", "--archive", str(first), code=1).stdout
    assert "entries 11 to 20 were archived, but are in no archive given" in said
    store = Store.open(db)
    try:
        with store.engine.begin() as conn:
            conn.execute(update(audit_archives).values(last_hash="0" * 64))
    finally:
        store.close()
    said = accord(db, "audit", "verify", code=1).stdout
    assert "the record was changed" in said
