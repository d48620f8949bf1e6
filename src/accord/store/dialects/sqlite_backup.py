"""Backups of a SQLite store (`accord.store.backup`): SQLite's online backup API copies the
database, consistent while the node serves, into a file of its own; a restore checks that
file (`PRAGMA integrity_check`, the store's tables) beside the target and renames it into
place only then."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from accord.store.dialects.base import BackupFailed, Facts, RestoreRefused

# The tables a copy must hold to be an Accord store.
_STORE_TABLES = ("alembic_version", "objects", "audit_log", "users", "api_keys")


def dump(engine: Engine, payload: Path, facts: Facts) -> dict[str, Any]:
    """Copy the store ``engine`` opens into the new file ``payload``, in one step: the copy
    holds one committed state (in WAL mode the node's writers are not blocked). The copy is
    left in rollback-journal mode, one self-contained file."""
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(payload)
        try:
            source.backup(target)  # pages=-1: all pages under one read transaction
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupFailed(f"the SQLite backup failed: {exc}") from exc
    finally:
        raw.close()
    copy = create_engine(URL.create("sqlite", database=str(payload)))
    try:
        with copy.connect() as conn:
            return facts(conn)
    finally:
        copy.dispose()


def _target(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise RestoreRefused("restore into a SQLite file, not an in-memory database")
    assert url.database is not None
    return Path(url.database)


def _holds_tables(path: Path) -> bool:
    """Whether ``path`` is anything but a missing, empty or table-less SQLite file."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
            return bool(found.fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return True  # not a SQLite database: still something a restore would replace


def check_copy(path: Path) -> None:
    """``path`` is a sound SQLite database holding an Accord store (else `RestoreRefused`)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise RestoreRefused(f"the backup's database cannot be read: {exc}") from exc
    if found != ["ok"]:
        shown = "; ".join(found[:3])
        raise RestoreRefused(f"the backup's database fails SQLite's integrity check: {shown}")
    missing = [name for name in _STORE_TABLES if name not in tables]
    if missing:
        raise RestoreRefused(
            f"the backup's database is not an Accord store (no table {', '.join(missing)})"
        )


def load(url: URL, payload: Path, force: bool) -> None:
    """Put the copy ``payload`` in place of the SQLite file ``url`` names: copied beside it,
    checked, then renamed over it (with ``force`` only, if it holds tables)."""
    target = _target(url)
    if _holds_tables(target) and not force:
        raise RestoreRefused(
            f"{target} already holds a database: restore into a new file, or give --force "
            "to replace it (stop the node first)"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RestoreRefused(f"cannot make the folder {target.parent}: {exc.strerror}") from None
    staged = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    try:
        try:
            shutil.copyfile(payload, staged)
        except OSError as exc:
            raise BackupFailed(f"could not write {staged}: {exc}") from exc
        check_copy(staged)
        # A write-ahead log left by the database replaced would be replayed into the copy.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
