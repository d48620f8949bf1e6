"""`accord.store.backup` at the store layer: the manifest describes the copy, a read checks
the whole file, and a restore into an unsuitable target is refused before anything is
written. The commands' tests: tests/cli/test_backup_cmds.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.store import backup as backups
from accord.store.node import Store


def test_the_manifest_describes_the_store(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "node.backup"
    made = backups.backup(store, path)
    with store.engine.connect() as conn:
        now = backups.facts(conn)
    assert now == {key: getattr(made, key) for key in now}
    assert made.objects > 0 and made.newest_seq > 0  # init publishes the TLP markings
    assert made.kind == store.engine.dialect.name
    assert (made.schema is None) == (made.kind == "sqlite")
    assert backups.read(path) == made
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_read_refuses_a_file_cut_anywhere(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "node.backup"
    backups.backup(store, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.backup"
    for size in (0, 5, len(backups.MAGIC) + 10, len(data) // 2, len(data) - 1):
        cut.write_bytes(data[:size])
        with pytest.raises(backups.BadBackup, match=r"cut\.backup"):
            backups.read(cut)


def test_restore_into_memory_is_refused(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "node.backup"
    backups.backup(sqlite_store, path)
    with pytest.raises(backups.RestoreRefused, match="in-memory"):
        backups.restore("sqlite://", path)


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(backups.RestoreRefused, match="cannot read"):
        backups.restore(f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "absent.backup")
    assert not (tmp_path / "new.db").exists()
