"""Archiving the audit log (`accord.store.audit_archive`, docs/audit.md): old entries moved to
a signed file, the live chain anchored after them, and every kind of tampering found by the
check across the archives, with the entry where it broke. On SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, update

from accord.store import audit as audit_module
from accord.store import audit_archive as archives
from accord.store.audit import ORDER_BROKEN, AuditQuery, Event
from accord.store.node import Store
from accord.store.schema import audit_archives, audit_log

NOW = datetime.now(UTC)


def _key(when: datetime) -> str:
    return when.isoformat(timespec="microseconds")[:26] + "Z"


def _old(store: Store, monkeypatch: pytest.MonkeyPatch, days_ago: int, count: int) -> None:
    """``count`` entries written ``days_ago`` days ago, a second apart."""
    times: Iterator[str] = iter(
        _key(NOW - timedelta(days=days_ago) + timedelta(seconds=i)) for i in range(count)
    )
    monkeypatch.setattr(audit_module, "_now_key", lambda: next(times))
    for i in range(count):
        store.audit.append(Event("lookup", "u1", "org-a", f"198.51.100.{i}", {"n": i}))
    monkeypatch.undo()


def _event() -> Event:
    return Event("admin", None, None, "audit-archive", {"actor": "test"})


def _archive(store: Store, path: Path, days_ago: int, **kw: bool) -> archives.Manifest:
    return archives.archive(store, path, _key(NOW - timedelta(days=days_ago)), _event(), **kw)


@pytest.fixture
def filled(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """10 entries 100 days old, 10 entries 60 days old, 5 written now."""
    _old(store, monkeypatch, 100, 10)
    _old(store, monkeypatch, 60, 10)
    for i in range(5):
        store.audit.append(Event("read", "u2", "org-b", f"indicator--{i}"))
    return store


def _rewrite(path: Path, change_entries: bool = False, **manifest_changes: object) -> None:
    """Rewrite an archive file: its manifest fields changed, or its third entry's target."""
    data = path.read_bytes()
    magic, rest = data[: len(archives.MAGIC)], data[len(archives.MAGIC) :]
    line, payload = rest.split(b"\n", 1)
    manifest = orjson.loads(line)
    manifest.update(manifest_changes)
    if change_entries:
        lines = gzip.decompress(payload).splitlines()
        entry = orjson.loads(lines[2])
        entry["target"] = "203.0.113.99"
        lines[2] = orjson.dumps(entry)
        payload = gzip.compress(b"\n".join(lines) + b"\n")
    path.write_bytes(magic + orjson.dumps(manifest) + b"\n" + payload)


def test_archive_moves_old_entries_and_anchors_the_live_log(filled: Store, tmp_path: Path) -> None:
    store = filled
    path = tmp_path / "a1.accord-audit"
    manifest = _archive(store, path, 80)
    assert (manifest.first_seq, manifest.last_seq, manifest.count) == (1, 10, 10)
    assert manifest.first_prev_hash == audit_module.GENESIS
    assert store.audit.entries()[0].seq == 11  # the oldest entries are gone from the log
    check = store.audit.verify_chain()
    assert check.intact and check.archived_through == 10
    assert check.count == 16  # 10 + 5 kept, and the entry that records the archive
    (recorded,) = store.audit.newest(AuditQuery(action="admin"))
    assert recorded.target == "audit-archive" and recorded.seq == 26
    assert recorded.detail["first_seq"] == 1 and recorded.detail["last_seq"] == 10
    assert recorded.detail["file"] == path.name and recorded.detail["sha256"] == manifest.sha256
    read = archives.read_archive(path, manifest.public_key)
    assert read.intact and read.entries == 10 and read.manifest == manifest
    # The file holds the entries as stored, oldest first.
    lines = gzip.decompress(path.read_bytes().split(b"\n", 2)[2]).splitlines()
    assert [orjson.loads(x)["seq"] for x in lines] == list(range(1, 11))
    full = archives.verify_with_archives(store, [path])
    assert full.intact and full.archived_entries == 10
    # Appends go on chaining after the archive.
    store.audit.append(Event("lookup", "u1", "org-a", "x"))
    assert store.audit.verify_chain().intact


def test_archives_in_sequence_and_one_missing(filled: Store, tmp_path: Path) -> None:
    store = filled
    first, second = tmp_path / "a1", tmp_path / "a2"
    _archive(store, first, 80)
    m2 = _archive(store, second, 40)
    assert (m2.first_seq, m2.last_seq) == (11, 20)
    assert store.audit.verify_chain().intact
    assert archives.verify_with_archives(store, [second, first]).intact  # any order
    front = archives.verify_with_archives(store, [second])
    assert [(b.seq, b.kind) for b in front.breaks] == [(11, ORDER_BROKEN)]
    assert "entries 1 to 10 are in no archive given" in front.breaks[0].reason
    end = archives.verify_with_archives(store, [first])
    assert [(b.seq, b.kind) for b in end.breaks] == [(20, ORDER_BROKEN)]
    assert "entries 11 to 20 were archived, but are in no archive given" in end.breaks[0].reason


def test_a_gap_between_archives_is_named(filled: Store, tmp_path: Path) -> None:
    store = filled
    paths = [tmp_path / "a1", tmp_path / "a2", tmp_path / "a3"]
    _archive(store, paths[0], 80)
    _archive(store, paths[1], 40)
    archives.archive(store, paths[2], _key(NOW + timedelta(days=1)), _event(), force=True)
    assert archives.verify_with_archives(store, paths).intact
    gap = archives.verify_with_archives(store, [paths[0], paths[2]])
    assert len(gap.breaks) == 1 and "entries 11 to 20 are in no archive given" in (
        gap.breaks[0].reason
    )


def test_refusals_leave_the_log_alone(filled: Store, tmp_path: Path) -> None:
    store = filled
    with pytest.raises(archives.ArchiveRefused, match="less than 30 days ago"):
        _archive(store, tmp_path / "x", 10)
    with pytest.raises(archives.ArchiveRefused, match="no audit entry before"):
        _archive(store, tmp_path / "x", 200)
    (tmp_path / "exists").write_text("")
    with pytest.raises(archives.ArchiveRefused, match="exists"):
        _archive(store, tmp_path / "exists", 80)
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(target="changed"))
    with pytest.raises(archives.ArchiveRefused, match="broken at entry 4"):
        _archive(store, tmp_path / "y", 80)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    left = [p.name for p in tmp_path.iterdir() if not p.name.startswith("accord.db")]
    assert left == ["exists"]  # no staged file left
    assert store.audit.entries()[0].seq == 1


def test_force_archives_everything_and_numbering_goes_on(filled: Store, tmp_path: Path) -> None:
    store = filled
    manifest = archives.archive(
        store, tmp_path / "all", _key(NOW + timedelta(days=1)), _event(), force=True
    )
    assert manifest.last_seq == 25
    (left,) = store.audit.entries()
    assert left.seq == 26 and left.target == "audit-archive"
    store.audit.append(Event("lookup", "u1", "org-a", "x"))
    assert [e.seq for e in store.audit.entries()] == [26, 27]
    assert store.audit.verify_chain().intact


def test_a_failed_cut_leaves_the_log_and_a_harmless_file(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = filled

    def broken(*events: Event, connection: object = None) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store.audit, "append", broken)
    with pytest.raises(RuntimeError):
        _archive(store, tmp_path / "a1", 80)
    monkeypatch.undo()
    assert (tmp_path / "a1").exists()
    assert store.audit.entries()[0].seq == 1 and store.audit.verify_chain().intact
    with store.engine.connect() as conn:
        assert conn.execute(select(audit_archives)).all() == []
    again = _archive(store, tmp_path / "a2", 80)
    assert again.first_seq == 1 and archives.verify_with_archives(store, [tmp_path / "a2"]).intact


def test_appends_while_archiving_keep_the_chain(filled: Store, tmp_path: Path) -> None:
    store = filled
    stop = threading.Event()
    errors: list[BaseException] = []

    def append() -> None:
        try:
            while not stop.is_set():
                store.audit.append(Event("lookup", "u1", "org-a", "192.0.2.1"))
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    worker = threading.Thread(target=append)
    worker.start()
    try:
        _archive(store, tmp_path / "a1", 80)
        archives.archive(store, tmp_path / "a2", _key(datetime.now(UTC)), _event(), force=True)
    finally:
        stop.set()
        worker.join()
    assert not errors
    store.audit.append(Event("lookup", "u1", "org-a", "192.0.2.2"))
    assert store.audit.verify_chain().intact
    assert archives.verify_with_archives(store, [tmp_path / "a1", tmp_path / "a2"]).intact


# -- tampering ----------------------------------------------------------------------------


@pytest.fixture
def archived(filled: Store, tmp_path: Path) -> tuple[Store, Path]:
    path = tmp_path / "a1"
    _archive(filled, path, 80)
    return filled, path


def test_an_entry_changed_in_the_file(archived: tuple[Store, Path]) -> None:
    store, path = archived
    _rewrite(path, change_entries=True)
    found = archives.verify_with_archives(store, [path])
    reasons = {(b.seq, b.reason) for b in found.breaks}
    assert (3, "a1: the entry's content does not match its hash (changed)") in reasons
    assert any("SHA-256" in r for _, r in reasons)


def test_an_entry_changed_with_a_new_checksum_breaks_the_signature(
    archived: tuple[Store, Path],
) -> None:
    store, path = archived
    _rewrite(path, change_entries=True)
    payload = path.read_bytes().split(b"\n", 2)[2]
    _rewrite(path, sha256=hashlib.sha256(payload).hexdigest(), payload_bytes=len(payload))
    reasons = [b.reason for b in archives.verify_with_archives(store, [path]).breaks]
    assert any("signature does not verify" in r for r in reasons)
    assert "a1: the entry's content does not match its hash (changed)" in reasons


def test_a_broken_signature(archived: tuple[Store, Path]) -> None:
    store, path = archived
    _rewrite(path, created="2000-01-01T00:00:00.000000Z")
    (found,) = archives.verify_with_archives(store, [path]).breaks
    assert found.seq == 1 and "signature does not verify" in found.reason
    _rewrite(path, signature="00" * 64)
    assert (
        "signature does not verify" in archives.verify_with_archives(store, [path]).breaks[0].reason
    )


def test_a_file_from_another_node(archived: tuple[Store, Path], tmp_path: Path) -> None:
    store, path = archived
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    other.init()
    try:
        for i in range(3):
            other.audit.append(Event("lookup", "u9", "org-z", f"x{i}"))
        foreign = tmp_path / "foreign"
        archives.archive(other, foreign, _key(NOW + timedelta(days=1)), _event(), force=True)
        assert archives.verify_with_archives(other, [foreign]).intact
    finally:
        other.close()
    found = archives.verify_with_archives(store, [foreign])
    assert any("another node's key" in b.reason for b in found.breaks)
    # Even in place of this node's own (a forged archive from another key).
    _rewrite(path, public_key=archives.read_archive(foreign, None).manifest.public_key)
    assert any(
        "another node's key" in b.reason
        for b in archives.verify_with_archives(store, [path]).breaks
    )


def test_an_anchor_changed_in_the_database(archived: tuple[Store, Path]) -> None:
    store, path = archived
    with store.engine.begin() as conn:
        conn.execute(update(audit_archives).values(last_seq=5))
    check = store.audit.verify_chain()
    assert not check.intact
    assert any("the record was changed" in b.reason for b in check.breaks)
    with store.engine.begin() as conn:
        conn.execute(update(audit_archives).values(last_seq=10))
        manifest = orjson.loads(conn.execute(select(audit_archives.c.manifest)).scalar_one())
        manifest["count"] = 9
        conn.execute(update(audit_archives).values(manifest=orjson.dumps(manifest).decode()))
    check = store.audit.verify_chain()
    assert [b.seq for b in check.breaks] == [10]
    assert "anchor is not to be trusted" in check.breaks[0].reason
    assert "signature does not verify" in check.breaks[0].reason
    with pytest.raises(archives.ArchiveRefused, match="anchor is not to be trusted"):
        _archive(store, path.with_name("a2"), 40)


def test_entries_deleted_right_after_the_anchor(archived: tuple[Store, Path]) -> None:
    store, path = archived
    with store.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq.in_([11, 12])))
    check = store.audit.verify_chain()
    (found,) = check.breaks
    assert found.seq == 13 and found.kind == ORDER_BROKEN
    assert "does not follow the last archived entry (10)" in found.reason
    assert archives.verify_with_archives(store, [path]).breaks == check.breaks


def test_every_entry_after_the_anchor_deleted(archived: tuple[Store, Path]) -> None:
    store, _ = archived
    with store.engine.begin() as conn:
        conn.execute(audit_log.delete())
    (found,) = store.audit.verify_chain().breaks
    assert found.seq == 11 and "no entry follows the archive anchor" in found.reason


def test_files_that_are_no_archive(archived: tuple[Store, Path], tmp_path: Path) -> None:
    store, path = archived
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello\n")
    with pytest.raises(archives.Unreadable, match="not an Accord audit archive"):
        archives.verify_with_archives(store, [path, junk])
    with pytest.raises(archives.Unreadable, match="cannot read"):
        archives.verify_with_archives(store, [tmp_path / "missing"])
    truncated = tmp_path / "truncated"
    truncated.write_bytes(path.read_bytes()[:-20])
    found = archives.verify_with_archives(store, [truncated])
    assert any("truncated" in b.reason for b in found.breaks)
