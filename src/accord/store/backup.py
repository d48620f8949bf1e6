"""A node's backup as one file (docs/backup.md): a magic line, a JSON manifest, then the
database's own copy (`accord.store.dialects`: SQLite's online backup API, ``pg_dump`` of the
node's schema).

The manifest names the database the copy is of, its schema, when it was made, what the store
held (the newest object sequence number, the number of object versions and audit entries,
the audit chain's head) and the payload's size and SHA-256. A restore checks the magic line,
the kind and the checksum before it touches anything, so a truncated or foreign file is
refused and the store it would replace stays as it was."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url

from accord.store import manifest_file
from accord.store import schema as s
from accord.store.dialects import backend_for, backend_for_url
from accord.store.dialects.base import BackupFailed, RestoreRefused
from accord.store.node import Store

__all__ = ["BackupFailed", "BadBackup", "Manifest", "RestoreRefused", "backup", "read", "restore"]

MAGIC = b"ACCORD-BACKUP 1\n"
_CHUNK = manifest_file.CHUNK


class BadBackup(RestoreRefused):
    """The file is no Accord backup, or not the whole of one."""


@dataclass(frozen=True, slots=True)
class Manifest:
    kind: str  # SQLAlchemy's name of the database: sqlite, postgresql
    schema: str | None  # PostgreSQL's schema the copy holds
    created: str
    newest_seq: int
    objects: int  # object versions
    audit_entries: int
    audit_head: str | None  # the newest audit entry's hash
    payload_bytes: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "schema": self.schema,
            "created": self.created,
            "newest_seq": self.newest_seq,
            "objects": self.objects,
            "audit_entries": self.audit_entries,
            "audit_head": self.audit_head,
            "payload_bytes": self.payload_bytes,
            "sha256": self.sha256,
        }


def facts(conn: Connection) -> dict[str, Any]:
    """What a manifest records of a store, read on ``conn``."""
    newest = conn.execute(select(func.max(s.objects.c.seq))).scalar()
    count = conn.execute(select(func.count()).select_from(s.objects)).scalar_one()
    audit = conn.execute(select(func.count()).select_from(s.audit_log)).scalar_one()
    head = conn.execute(
        select(s.audit_log.c.hash).order_by(s.audit_log.c.seq.desc()).limit(1)
    ).scalar()
    return {
        "newest_seq": int(newest or 0),
        "objects": int(count),
        "audit_entries": int(audit),
        "audit_head": head,
    }


def _digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def backup(store: Store, path: Path) -> Manifest:
    """Write a consistent copy of ``store`` to the new file ``path`` (made beside it under
    another name and renamed: ``path`` is whole or absent)."""
    if path.exists():
        raise RestoreRefused(f"{path} exists: give a new file name")
    if not path.parent.is_dir():
        raise RestoreRefused(f"{path.parent} is not a folder")
    backend = backend_for(store.engine)
    try:
        with manifest_file.payload_beside(path) as payload:
            schema, found = backend.dump(store.engine, payload, facts)
            sha, size = _digest(payload)
            manifest = Manifest(
                kind=backend.name,
                schema=schema,
                created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                payload_bytes=size,
                sha256=sha,
                **found,
            )
            manifest_file.write(path, MAGIC, manifest.as_json(), payload)
    except OSError as exc:
        raise BackupFailed(f"could not write {path}: {exc}") from exc
    return manifest


def _manifest(path: Path, f: IO[bytes]) -> Manifest:
    try:
        manifest = manifest_file.read(path, f, MAGIC, "an Accord backup", Manifest)
    except manifest_file.BadManifest as exc:
        raise BadBackup(str(exc)) from None
    if not isinstance(manifest.payload_bytes, int) or not isinstance(manifest.sha256, str):
        raise BadBackup(f"{path} is damaged: its manifest has no size or checksum")
    return manifest


def read(path: Path) -> Manifest:
    """The manifest of the backup ``path``, once its payload is checked whole (`BadBackup`)."""
    with _opened(path) as f:
        manifest = _manifest(path, f)
        _copy_checked(path, f, manifest, None)
    return manifest


def _opened(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise RestoreRefused(f"cannot read {path}: {exc.strerror}") from None


def _copy_checked(path: Path, f: IO[bytes], manifest: Manifest, out: IO[bytes] | None) -> None:
    sha = hashlib.sha256()
    size = 0
    while chunk := f.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
        if out is not None:
            out.write(chunk)
    if size != manifest.payload_bytes:
        raise BadBackup(
            f"{path} is truncated or damaged: it holds {size} bytes of data where its "
            f"manifest says {manifest.payload_bytes}"
        )
    if sha.hexdigest() != manifest.sha256:
        raise BadBackup(f"{path} is damaged: its data does not match its manifest's SHA-256")


def restore(url: str, path: Path, *, force: bool = False) -> Manifest:
    """Put the backup ``path`` in place of the store ``url`` names. The file is checked
    whole first (magic line, manifest, size, SHA-256, database kind); a store already there
    is replaced only with ``force``."""
    parsed = make_url(url)
    backend = backend_for_url(parsed)
    with _opened(path) as f:
        manifest = _manifest(path, f)
        if manifest.kind != backend.name:
            raise BadBackup(
                f"{path} is a backup of a {manifest.kind} store; the target is {backend.name}: "
                "restore it into a database of its kind"
            )
        with tempfile.TemporaryDirectory(prefix="accord-restore-") as folder:
            payload = Path(folder) / "payload"
            with payload.open("wb") as out:
                _copy_checked(path, f, manifest, out)
            backend.load(parsed, payload, manifest.schema, force)
    return manifest
