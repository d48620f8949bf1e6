"""Archiving the audit log (docs/audit.md): old entries moved to a signed file, and the chain
checked across archives into the live log.

The file: a magic line, one line of JSON manifest, then the entries as gzip-compressed JSON
lines, oldest first, each with the columns the hash covers exactly as stored (``detail`` is the
stored JSON text, so that the hash can be recomputed). The manifest names the node, the
first and last sequence numbers, the hash the first entry follows, the last entry's hash, the
count, when it was made, the size and SHA-256 of the compressed entries, and the node's
archive public key and Ed25519 signature over all of that (`accord.store.audit_anchor`).

Archiving is crash-safe in this order: the file is written beside its name, fsynced and
renamed; read back and checked whole; only then, in one transaction that holds the audit
log's write lock, are exactly those entries deleted, the manifest recorded as the new anchor
and an ``admin`` / ``audit-archive`` entry appended. If that transaction fails the file is
harmless: the entries are still in the log, and a later archive starts from the same anchor.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Engine, func, select

from accord.store import audit_anchor, manifest_file
from accord.store.audit import (
    _LOCK_KEY,
    CONTENT_CHANGED,
    GENESIS,
    ORDER_BROKEN,
    Break,
    ChainCheck,
    Event,
    entry_hash,
)
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.node import Store
from accord.store.objects import now_key
from accord.store.schema import audit_archives, audit_log

MAGIC = b"ACCORD-AUDIT-ARCHIVE 1\n"
MIN_AGE_DAYS = 30  # entries younger than this are archived only when forced
_BATCH = 5000
_CHUNK = manifest_file.CHUNK
_ENTRY_FIELDS = (
    "seq",
    "at",
    "user_id",
    "org_id",
    "action",
    "target",
    "detail",
    "prev_hash",
    "hash",
)
_MANIFEST_FIELDS = (
    "format",
    "node_id",
    "first_seq",
    "last_seq",
    "first_prev_hash",
    "last_hash",
    "count",
    "created",
    "payload_bytes",
    "sha256",
    "public_key",
    "signature",
)


class ArchiveRefused(ValueError):
    """Archiving was not started: nothing to archive, a date too recent, a file that exists,
    a broken chain."""


class ArchiveFailed(RuntimeError):
    """Archiving started but did not finish: the log is as it was (see the message for the
    file)."""


class Unreadable(ValueError):
    """A file that is no audit archive at all, or cannot be read."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    node_id: str | None
    first_seq: int
    last_seq: int
    first_prev_hash: str
    last_hash: str
    count: int
    created: str
    payload_bytes: int
    sha256: str
    public_key: str
    signature: str

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _MANIFEST_FIELDS}


def _not_after(before: str, now: datetime, force: bool) -> None:
    floor = (now - timedelta(days=MIN_AGE_DAYS)).isoformat(timespec="microseconds")[:26] + "Z"
    if before > floor and not force:
        raise ArchiveRefused(
            f"{before} is less than {MIN_AGE_DAYS} days ago: entries that recent stay in the "
            "live log (give --force to archive them anyway)"
        )


def archive(
    store: Store,
    path: Path,
    before: str,
    event: Event,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> Manifest:
    """Move the entries written before ``before`` (a timestamp key) to the new file ``path``
    and anchor the live log after them; ``event`` is the ``admin`` entry that records it (its
    detail gains what was archived). See the module for the order of the steps."""
    _not_after(before, now or datetime.now(UTC), force)
    if path.exists():
        raise ArchiveRefused(f"{path} exists: give a new file name")
    if not path.parent.is_dir():
        raise ArchiveRefused(f"{path.parent} is not a folder")
    engine = store.engine
    with engine.connect() as conn:
        anchor = audit_anchor.start(conn, GENESIS)
        if anchor.problems:
            raise ArchiveRefused(
                "the audit log's archive anchor is not to be trusted "
                f"({anchor.problems[0]}): run `accord audit verify` and investigate first"
            )
        # Everything before the first entry written at or after ``before``; entries are
        # numbered in the order they were chained, under the write lock.
        cut = conn.execute(select(func.min(audit_log.c.seq)).where(audit_log.c.at >= before))
        first_kept = cut.scalar()
        if first_kept is None:
            newest = conn.execute(select(func.max(audit_log.c.seq))).scalar()
            last_seq = int(newest or 0)
        else:
            last_seq = int(first_kept) - 1
    if last_seq <= anchor.seq:
        raise ArchiveRefused(f"no audit entry before {before} is left to archive")
    key = audit_anchor.signing_key(engine)
    identity = store.identity.find()
    try:
        with manifest_file.payload_beside(path) as payload:
            facts = _write_payload(engine, payload, anchor, last_seq)
            unsigned = {
                "format": 1,
                "node_id": identity.id if identity else None,
                **facts,
                "created": now_key(),
            }
            manifest = Manifest(**audit_anchor.sign(key, unsigned))
            manifest_file.write(path, MAGIC, manifest.as_json(), payload)
    except OSError as exc:
        raise ArchiveFailed(f"could not write {path}: {exc}; the audit log is unchanged") from exc
    with engine.connect() as conn:
        node_key = audit_anchor.node_public_key(conn)
    back = read_archive(path, node_key)
    if back.breaks or back.manifest != manifest:
        raise ArchiveFailed(
            f"{path} does not read back as written ({_first_reason(back)}); the audit log is "
            "unchanged: check the disk, delete the file and archive again"
        )
    _cut(store, manifest, event, path)
    return manifest


def _first_reason(found: ArchiveFile) -> str:
    return found.breaks[0].reason if found.breaks else "its manifest differs"


def _live_batches(engine: Engine, after: int, through: int) -> Iterator[Sequence[Any]]:
    columns = [audit_log.c[name] for name in _ENTRY_FIELDS]
    with engine.connect() as conn:
        last = after
        while last < through:
            rows = conn.execute(
                select(*columns)
                .where(audit_log.c.seq > last)
                .where(audit_log.c.seq <= through)
                .order_by(audit_log.c.seq)
                .limit(_BATCH)
            ).all()
            if not rows:
                return
            yield rows
            last = int(rows[-1][0])


def _write_payload(
    engine: Engine, payload: Path, anchor: audit_anchor.Start, last_seq: int
) -> dict[str, Any]:
    """Write the entries after ``anchor`` up to ``last_seq`` to ``payload`` (gzip JSON
    lines), checking their chain as they go: a broken chain is not archived, the evidence
    stays where ``accord audit verify`` finds it. (The file is a step: the archive is
    fsynced once it is whole.)"""
    prev = anchor.hash
    count = 0
    first_seq: int | None = None
    last_read = anchor.seq
    with gzip.open(payload, "wb", compresslevel=6) as out:
        for rows in _live_batches(engine, anchor.seq, last_seq):
            lines = []
            for row in rows:
                seq, at, user_id, org_id, action, target, detail, prev_hash, digest = row
                recomputed = entry_hash(prev_hash, at, user_id, org_id, action, target, detail)
                if prev_hash != prev or recomputed != digest:
                    raise ArchiveRefused(
                        f"the audit chain is broken at entry {seq}: run `accord audit "
                        "verify`; a broken chain is not archived"
                    )
                lines.append(orjson.dumps(dict(zip(_ENTRY_FIELDS, row, strict=True))))
                prev = digest
            if first_seq is None:
                first_seq = int(rows[0][0])
            last_read = int(rows[-1][0])
            count += len(rows)
            lines.append(b"")
            out.write(b"\n".join(lines))
    if first_seq is None:
        raise ArchiveRefused("no audit entry is left to archive")
    sha = hashlib.sha256()
    size = 0
    with payload.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return {
        "first_seq": first_seq,
        "last_seq": last_read,  # PostgreSQL's sequences may skip numbers: the one read
        "first_prev_hash": anchor.hash,
        "last_hash": prev,
        "count": count,
        "payload_bytes": size,
        "sha256": sha.hexdigest(),
    }


def _cut(store: Store, manifest: Manifest, event: Event, path: Path) -> None:
    """Delete the archived entries, record the anchor and the ``admin`` entry: one
    transaction, under the audit log's write lock, so that no append chains meanwhile."""
    unapplied = f"{path} was written but not applied (the audit log is unchanged; delete it)"
    with write_transaction(store.engine) as conn:
        backend_for(conn).lock_writes(conn, _LOCK_KEY)
        current = audit_anchor.start(conn, GENESIS)
        if current.hash != manifest.first_prev_hash:
            raise ArchiveFailed(f"another archive was made meanwhile: {unapplied}")
        still = conn.execute(
            select(audit_log.c.hash).where(audit_log.c.seq == manifest.last_seq)
        ).scalar()
        if still != manifest.last_hash:
            raise ArchiveFailed(f"the last entry archived changed meanwhile: {unapplied}")
        detail = {
            **(event.detail or {}),
            "file": path.name,
            "first_seq": manifest.first_seq,
            "last_seq": manifest.last_seq,
            "count": manifest.count,
            "last_hash": manifest.last_hash,
            "sha256": manifest.sha256,
        }
        # Appended before the delete: SQLite numbers a row after the largest one there, and
        # the archived entries are still there to count from.
        recorded = Event(event.action, event.user_id, event.org_id, event.target, detail)
        store.audit.append(recorded, connection=conn)
        deleted = conn.execute(
            audit_log.delete().where(audit_log.c.seq <= manifest.last_seq)
        ).rowcount
        if deleted != manifest.count:
            raise ArchiveFailed(
                f"{deleted} entries up to {manifest.last_seq} were found where the file holds "
                f"{manifest.count}: {unapplied}"
            )
        conn.execute(
            audit_archives.insert().values(
                created=manifest.created,
                last_seq=manifest.last_seq,
                last_hash=manifest.last_hash,
                manifest=orjson.dumps(manifest.as_json()).decode(),
            )
        )


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    """One archive file as read and checked."""

    path: Path
    manifest: Manifest
    entries: int  # entries read from it
    breaks: tuple[Break, ...]

    @property
    def intact(self) -> bool:
        return not self.breaks


def _manifest(path: Path, f: IO[bytes]) -> Manifest:
    try:
        manifest = manifest_file.read(path, f, MAGIC, "an Accord audit archive", Manifest)
    except manifest_file.BadManifest as exc:
        raise Unreadable(str(exc)) from None
    if manifest.format != 1:
        raise Unreadable(f"{path}: an archive of format {manifest.format!r}, not 1 (newer?)")
    for name in ("first_seq", "last_seq", "count", "payload_bytes"):
        if type(getattr(manifest, name)) is not int:
            raise Unreadable(f"{path}: its manifest's {name} is not a number")
    return manifest


class _Chain:
    """The entries of one file checked line by line, as they are decompressed."""

    def __init__(self, name: str, manifest: Manifest) -> None:
        self.name = name
        self.breaks: list[Break] = []
        self.prev = manifest.first_prev_hash
        self.last_seq = manifest.first_seq - 1
        self.count = 0
        self.unreadable = False

    def broke(self, seq: int, reason: str, kind: str = CONTENT_CHANGED) -> None:
        self.breaks.append(Break(seq, f"{self.name}: {reason}", kind))

    def entry(self, line: bytes) -> None:
        if self.unreadable or not line:
            return
        self.count += 1
        try:
            entry = orjson.loads(line)
            seq = int(entry["seq"])
            recomputed = entry_hash(
                entry["prev_hash"],
                entry["at"],
                entry["user_id"],
                entry["org_id"],
                entry["action"],
                entry["target"],
                entry["detail"],
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            self.broke(self.last_seq + 1, f"the entry after {self.last_seq} cannot be read")
            self.unreadable = True
            return
        if seq <= self.last_seq:
            self.broke(seq, f"entry {seq} is out of order (after {self.last_seq})", ORDER_BROKEN)
        if entry["prev_hash"] != self.prev:
            self.broke(
                seq,
                "the entry does not follow the one before it (deleted or inserted)",
                ORDER_BROKEN,
            )
        if recomputed != entry["hash"]:
            self.broke(seq, "the entry's content does not match its hash (changed)")
        self.prev = str(entry["hash"])
        self.last_seq = seq


def read_archive(path: Path, node_key: str | None) -> ArchiveFile:
    """Read ``path`` whole and check it: signature (by ``node_key``, this node's archive
    public key), size and SHA-256 of the entries, and their chain from the manifest's first
    hash to its last. `Unreadable` for a file that is no archive; a changed one comes back
    with its breaks, the entry where it broke named when it can be. Streams: memory does
    not grow with the file."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror}") from None
    with f:
        manifest = _manifest(path, f)
        chain = _Chain(path.name, manifest)
        problem = audit_anchor.signature_problem(manifest.as_json(), node_key)
        if problem is not None:
            chain.broke(manifest.first_seq, problem)
        sha = hashlib.sha256()
        size = 0
        inflate: Any = zlib.decompressobj(wbits=31)  # gzip
        pending = b""
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
            if inflate is None:
                continue
            try:
                pending += inflate.decompress(chunk)
            except zlib.error:
                inflate = None
                chain.broke(manifest.first_seq, "its entries cannot be decompressed (damaged)")
                continue
            *lines, pending = pending.split(b"\n")
            for line in lines:
                chain.entry(line)
    if inflate is not None:
        chain.entry(pending)
        if not inflate.eof:
            chain.broke(manifest.last_seq, "its entries end early (truncated)", ORDER_BROKEN)
    if size != manifest.payload_bytes or sha.hexdigest() != manifest.sha256:
        chain.broke(
            manifest.first_seq,
            "its entries do not match its manifest's size and SHA-256 (changed or truncated)",
        )
    if (
        inflate is not None
        and not chain.unreadable
        and (
            chain.count != manifest.count
            or chain.last_seq != manifest.last_seq
            or chain.prev != manifest.last_hash
        )
    ):
        chain.broke(
            manifest.last_seq,
            f"it holds {chain.count} entries through {chain.last_seq} where its manifest says "
            f"{manifest.count} through {manifest.last_seq} (entries removed or added)",
            ORDER_BROKEN,
        )
    return ArchiveFile(path, manifest, chain.count, tuple(chain.breaks))


@dataclass(frozen=True, slots=True)
class FullCheck:
    """The chain from its first entry through the archives given into the live log."""

    archives: tuple[ArchiveFile, ...]
    live: ChainCheck
    breaks: tuple[Break, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def archived_entries(self) -> int:
        return sum(found.entries for found in self.archives)


def verify_with_archives(store: Store, paths: Sequence[Path]) -> FullCheck:
    """Check each archive (`read_archive`), that they follow one another from the log's
    first entry (GENESIS) without a gap, that the live log's anchor follows the last of
    them, and the live log (`AuditLog.verify_chain`). `Unreadable` for a file that is no
    archive."""
    with store.engine.connect() as conn:
        node_key = audit_anchor.node_public_key(conn)
        anchor = audit_anchor.start(conn, GENESIS)
    found = sorted((read_archive(p, node_key) for p in paths), key=lambda a: a.manifest.first_seq)
    breaks: list[Break] = []
    follows, after_seq, after = GENESIS, 0, "the start of the log"
    for one in found:
        m = one.manifest
        breaks.extend(one.breaks)
        if m.first_prev_hash != follows:
            if m.first_seq > after_seq + 1:
                what = f"entries {after_seq + 1} to {m.first_seq - 1} are in no archive given"
            else:
                what = "it does not follow the archive before it (overlapping or not this chain)"
            breaks.append(Break(m.first_seq, f"{one.path.name}: {what}", ORDER_BROKEN))
        follows, after_seq, after = m.last_hash, m.last_seq, one.path.name
    if anchor.hash != follows:
        if anchor.seq > after_seq:
            what = (
                f"entries {after_seq + 1} to {anchor.seq} were archived, but are in no archive "
                f"given (after {after})"
            )
        else:
            what = f"the live log's anchor ({anchor.seq}) does not follow {after}"
        breaks.append(Break(anchor.seq if anchor.archives else after_seq, what, ORDER_BROKEN))
    live = store.audit.verify_chain()
    breaks.extend(live.breaks)
    return FullCheck(tuple(found), live, tuple(breaks))
