"""``accord backup`` and ``accord restore`` (issue 21, docs/backup.md), on SQLite and
PostgreSQL: a store restored into a new database holds the same objects, its API keys still
authenticate, and its audit chain verifies; a truncated or foreign file is refused before
anything is touched."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from accord.cli.main import app
from accord.store import backup as backups
from accord.store.node import Store

runner = CliRunner()
ANALYST = "analyst@cert.example"
INDICATORS = [f"indicator--00000000-0000-4000-8000-{n:012d}" for n in range(1, 6)]


def _bundle(start: int = 1, count: int = 5) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": f"indicator {n}",
                "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
            for n in range(start, start + count)
        ],
    }


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def node(store_url: str, tmp_path: Path) -> dict[str, str]:
    """A node with a user, an API key and five indicators."""
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    added = accord(store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--json")
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(orjson.dumps(_bundle()))
    accord(store_url, "ingest", str(bundle), "--as", ANALYST)
    return {"url": store_url, "key": orjson.loads(added.stdout)["api_key"]}


@pytest.fixture
def new_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Where to restore: a new SQLite file, or a new PostgreSQL database (the backup's schema
    is in the source database already), dropped afterwards."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'accord.db'}"
        return
    base = make_url(store_url)
    name = f"accord_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        base.set(drivername="postgresql+psycopg", query={}), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def _facts(url: str) -> dict[str, Any]:
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            return backups.facts(conn)
    finally:
        store.close()


def test_backup_restore_into_a_new_store(
    node: dict[str, str], new_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "node.backup"
    made = orjson.loads(accord(node["url"], "backup", str(path), "--json").stdout)
    assert made["objects"] >= 5 and made["audit_entries"] >= 3
    assert path.read_bytes().startswith(backups.MAGIC)

    done = accord(node["url"], "restore", str(path), "--to", new_url, "--json")
    report = orjson.loads(done.stdout)
    assert report["ok"] is True and report["audit_breaks"] == 0
    assert report["restored"]["objects"] == made["objects"]
    assert _facts(new_url) == _facts(node["url"])

    # The objects: a get as the analyst; the key authenticates; the audit chain verifies.
    got = orjson.loads(accord(new_url, "get", INDICATORS[2], "--as", ANALYST, "--json").stdout)
    assert got["id"] == INDICATORS[2] and got["name"] == "indicator 3"
    restored = Store.open(new_url)
    try:
        user = restored.directory.user_for_key(node["key"])
        assert user is not None and user.email == ANALYST
        assert restored.directory.user_for_key(node["key"] + "x") is None
    finally:
        restored.close()
    verified = orjson.loads(accord(new_url, "audit", "verify", "--json").stdout)
    assert verified["ok"] is True and verified["entries"] == made["audit_entries"]

    # A second restore into the same store is refused without --force, and replaces it with.
    refused = accord(node["url"], "restore", str(path), "--to", new_url, code=2)
    assert "--force" in refused.output
    accord(new_url, "ingest", str(_write_bundle(tmp_path, 100)), "--as", ANALYST)
    assert _facts(new_url)["objects"] == made["objects"] + 5
    accord(node["url"], "restore", str(path), "--to", new_url, "--force")
    assert _facts(new_url) == _facts(node["url"])
    accord(new_url, "audit", "verify")


def _write_bundle(tmp_path: Path, start: int) -> Path:
    path = tmp_path / f"bundle-{start}.json"
    path.write_bytes(orjson.dumps(_bundle(start)))
    return path


def test_restore_in_place_with_force(node: dict[str, str], tmp_path: Path) -> None:
    """The node's own store replaced by its backup: what was written since is gone."""
    path = tmp_path / "node.backup"
    accord(node["url"], "backup", str(path))
    before = _facts(node["url"])
    accord(node["url"], "ingest", str(_write_bundle(tmp_path, 200)), "--as", ANALYST)
    assert _facts(node["url"]) != before
    accord(node["url"], "restore", str(path), code=2)  # not without --force
    accord(node["url"], "restore", str(path), "--force")
    assert _facts(node["url"]) == before
    accord(node["url"], "audit", "verify")


def _damaged(kind: str, good: Path, tmp_path: Path) -> Path:
    bad = tmp_path / f"{kind}.backup"
    data = good.read_bytes()
    if kind == "truncated":
        bad.write_bytes(data[: len(data) - 1000])
    elif kind == "flipped":
        middle = len(data) // 2
        bad.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    elif kind == "random":
        bad.write_bytes(os.urandom(50_000))
    elif kind == "no-manifest":
        bad.write_bytes(backups.MAGIC + b'{"kind": "sqlite"')
    else:  # a SQLite database that is no Accord store
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    return bad


@pytest.mark.parametrize("kind", ["truncated", "flipped", "random", "no-manifest", "sqlite"])
def test_a_bad_file_is_refused_and_the_store_untouched(
    node: dict[str, str], tmp_path: Path, kind: str
) -> None:
    good = tmp_path / "node.backup"
    accord(node["url"], "backup", str(good))
    bad = _damaged(kind, good, tmp_path)
    before = _facts(node["url"])
    for extra in ([], ["--force"]):
        refused = accord(node["url"], "restore", str(bad), *extra, code=2)
        assert str(bad) in refused.output.replace("\n", "")
    assert _facts(node["url"]) == before
    accord(node["url"], "audit", "verify")


def test_a_backup_of_the_other_database_is_refused(node: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "node.backup"
    accord(node["url"], "backup", str(path))
    other = (
        "postgresql://nobody@127.0.0.1:1/none"
        if node["url"].startswith("sqlite")
        else f"sqlite:///{tmp_path / 'other.db'}"
    )
    refused = accord(node["url"], "restore", str(path), "--to", other, code=2)
    assert "restore it into a database of its kind" in refused.output.replace("\n", " ")
    assert not (tmp_path / "other.db").exists()


def test_backup_refuses_an_existing_file(node: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "node.backup"
    path.write_text("keep me")
    accord(node["url"], "backup", str(path), code=2)
    assert path.read_text() == "keep me"


def test_pg_restore_into_the_same_database_under_another_schema_is_refused(
    node: dict[str, str], tmp_path: Path, pg_schemas: Callable[[], str]
) -> None:
    if node["url"].startswith("sqlite"):
        pytest.skip("PostgreSQL only: schemas")
    path = tmp_path / "node.backup"
    accord(node["url"], "backup", str(path))
    refused = accord(node["url"], "restore", str(path), "--to", pg_schemas(), code=2)
    assert "into another database" in refused.output.replace("\n", " ")


def test_sqlite_backup_while_a_writer_writes_is_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    accord(url, "init")
    accord(url, "org", "add", "CERT-EX")
    accord(url, "user", "add", ANALYST, "--org", "CERT-EX")
    bundles = [_write_bundle(tmp_path, 1000 + 10 * n) for n in range(12)]
    store = Store.open(url)
    done = threading.Event()

    def write() -> None:
        try:
            for bundle in bundles:
                runner.invoke(app, ["--db", url, "ingest", str(bundle), "--as", ANALYST])
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    made = []
    try:
        while not done.is_set() or not made:
            path = tmp_path / f"busy-{len(made)}.backup"
            made.append((path, backups.backup(store, path)))
    finally:
        writer.join()
        store.close()
    for n, (path, manifest) in enumerate(made):
        target = f"sqlite:///{tmp_path / f'restored-{n}.db'}"
        backups.restore(target, path)
        found = _facts(target)
        assert found == {k: getattr(manifest, k) for k in found}
        restored = Store.open(target)
        try:
            assert restored.audit.verify()[1] == []
        finally:
            restored.close()


def test_a_copy_that_will_not_restore_leaves_the_store_as_it_was(
    node: dict[str, str], tmp_path: Path
) -> None:
    """A file whose manifest and checksum are right but whose copy is no database (made by
    hand): SQLite's check refuses it (2), pg_restore fails (1); with --force the store it
    would have replaced is back as it was (on PostgreSQL: renamed aside, then back)."""
    good = tmp_path / "node.backup"
    accord(node["url"], "backup", str(good))
    with good.open("rb") as f:
        f.readline()
        manifest = orjson.loads(f.readline())
    junk = os.urandom(20_000)
    manifest |= {"payload_bytes": len(junk), "sha256": hashlib.sha256(junk).hexdigest()}
    forged = tmp_path / "forged.backup"
    forged.write_bytes(backups.MAGIC + orjson.dumps(manifest) + b"\n" + junk)
    before = _facts(node["url"])
    code = 2 if node["url"].startswith("sqlite") else 1
    accord(node["url"], "restore", str(forged), "--force", code=code)
    assert _facts(node["url"]) == before
    accord(node["url"], "audit", "verify")
    accord(node["url"], "get", INDICATORS[0], "--as", ANALYST)
