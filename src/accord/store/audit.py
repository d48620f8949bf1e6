"""The append-only audit log: who looked up what, who read AMBER or RED content, every write
and every admin action.

Each entry carries the SHA-256 of the one before it, over a canonical JSON of its own fields,
so that :meth:`AuditLog.verify` finds an entry that was changed, deleted or inserted. Appends
are serialised (the backend's write lock, `accord.store.dialects.base.Backend.lock_writes`)
so that two workers never chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Select, func, select

from accord.store import audit_anchor
from accord.store.audit_group import AuditGroup
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.schema import audit_log

GENESIS = "0" * 64
_COLUMNS = ("at", "user_id", "org_id", "action", "target", "detail", "prev_hash", "hash")
_LOCK_KEY = 0x0ACC0AD1  # arbitrary constant: the write lock (Backend.lock_writes) of appends
_LAST = "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1"
_FEW = 8  # up to this many events are inserted row by row, in a transaction of their own


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    user_id: str | None
    org_id: str | None
    action: str
    target: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Event:
    """What to record; the log adds time and the hash chain."""

    action: str  # lookup, read, write, admin, ...
    user_id: str | None
    org_id: str | None
    target: str | None = None
    detail: dict[str, Any] | None = None


ORDER_BROKEN = "order"
CONTENT_CHANGED = "content"


@dataclass(frozen=True, slots=True)
class Break:
    """Where verification found the chain broken, and why."""

    seq: int
    reason: str
    kind: str = CONTENT_CHANGED  # ORDER_BROKEN (deleted or inserted) or CONTENT_CHANGED
    org_id: str | None = None  # the organisation of the entry where it broke


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What a walk over the whole chain found (`AuditLog.verify_chain`)."""

    count: int  # entries checked
    last_seq: int | None  # the newest entry checked
    last_at: str | None
    breaks: tuple[Break, ...]
    # The last archived entry the chain started after (accord.store.audit_archive); None
    # when nothing was archived and it started from GENESIS.
    archived_through: int | None = None

    @property
    def intact(self) -> bool:
        return not self.breaks


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries a listing asks for; None leaves a field unfiltered. Times are keys as
    the log writes them (`_now_key`): ``since`` included, ``until`` excluded."""

    org_id: str | None = None
    user_id: str | None = None
    action: str | None = None
    actions: frozenset[str] | None = None  # only these actions (with ``action``: both hold)
    target: str | None = None
    since: str | None = None
    until: str | None = None


def _now_key() -> str:
    """The current time as `accord.store.objects.now_key` writes it, without strftime (a
    look-up records itself on every call)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def entry_hash(
    prev_hash: str,
    at: str,
    user_id: str | None,
    org_id: str | None,
    action: str,
    target: str | None,
    detail: str,
) -> str:
    body = orjson.dumps([prev_hash, at, user_id, org_id, action, target, detail])
    return hashlib.sha256(body).hexdigest()


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._group: AuditGroup[Event] | None = None  # look-ups' committer, where wanted
        self._grouping = threading.Lock()

    def submit(self, *events: Event, on: Connection | None = None) -> Future[None]:
        """Record a look-up's events: their commit, to come. The look-up must not be
        answered before it (a failed one raises `accord.store.audit_group.AuditNotRecorded`).
        Where the backend groups commits (`accord.store.audit_group`) the events join the
        next group; elsewhere they are recorded here, as `record` does on ``on`` (the
        look-up's connection; without one, as `append` does), an error raises at once, and
        the future is done."""
        if backend_for(self.engine).groups_audit_commits:
            return self._committer().submit(events)
        if on is None:
            self.append(*events)
        else:
            self.record(*events, on=on)
        done: Future[None] = Future()
        done.set_result(None)
        return done

    @property
    def group_commits(self) -> int:
        """How many groups of look-ups' entries this process committed."""
        return 0 if self._group is None else self._group.commits

    def close(self) -> None:
        """Commit the look-ups' entries still queued and stop the committer (the server or
        the store is stopping; the next look-up starts it again)."""
        if self._group is not None:
            self._group.close()

    def _committer(self) -> AuditGroup[Event]:
        group = self._group
        if group is None:
            with self._grouping:
                if self._group is None:
                    self._group = AuditGroup(self._group_connection, self._record_group)
                group = self._group
        return group

    def _group_connection(self) -> Connection:
        # Autocommit: `append_chained` then opens and commits its transaction in two round
        # trips (see the PostgreSQL backend).
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _record_group(self, conn: Connection, events: Sequence[Event]) -> None:
        self.record(*events, on=conn)

    def append(self, *events: Event, connection: Connection | None = None) -> None:
        """Record events in order, in one transaction (the caller's, if given)."""
        if connection is not None:
            self._append(connection, events)
            return
        if not events:
            return
        if len(events) <= _FEW:
            with self.engine.connect() as conn:
                self.record(*events, on=conn)
            return
        with write_transaction(self.engine) as conn:
            self._append(conn, events)

    def record(self, *events: Event, on: Connection) -> None:
        """Record a few events (a look-up's) in a transaction of their own, committed before
        this returns, on connection ``on``, which must only have read (a look-up records
        itself on the connection it read with; a read transaction SQLAlchemy began on it is
        ended first). Runs on the driver's connection: SQLAlchemy's transaction and parameter
        handling cost twice SQLite's own work. A connection to another database than the
        log's (a read replica's, `accord.store.replicas`) cannot write: the events go to the
        log's own database, the primary, on a connection of its own."""
        if not events:
            return
        if on.engine is not self.engine:
            self.append(*events)
            return
        if on.in_transaction():
            on.rollback()
        backend_for(on).append_chained(
            on, _LOCK_KEY, audit_log.name, _COLUMNS, _LAST, lambda last: self._rows(last, events)
        )

    def _append(self, conn: Connection, events: tuple[Event, ...]) -> None:
        if not events:
            return
        # Every look-up writes here, so this runs on the driver's cursor (see
        # accord.store.prepared for why).
        backend = backend_for(conn)
        backend.lock_writes(conn, _LOCK_KEY)
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            cursor.execute(_LAST)
            last = cursor.fetchone()
        finally:
            cursor.close()
        backend.bulk_insert(conn, audit_log, _COLUMNS, self._rows(last, events))

    @staticmethod
    def _rows(last: Any, events: tuple[Event, ...]) -> list[tuple[Any, ...]]:
        """The rows for ``events``, chained onto ``last`` (the newest entry's hash row)."""
        prev = last[0] if last else GENESIS
        rows = []
        for event in events:
            at = _now_key()
            detail = orjson.dumps(event.detail or {}, option=orjson.OPT_SORT_KEYS).decode()
            digest = entry_hash(
                prev, at, event.user_id, event.org_id, event.action, event.target, detail
            )
            rows.append(
                (at, event.user_id, event.org_id, event.action, event.target, detail, prev, digest)
            )
            prev = digest
        return rows

    def newest(
        self, query: AuditQuery, before_seq: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Entries that ``query`` asks for, newest first, older than ``before_seq`` (keyset
        paging on the sequence: a page goes on from the last one's smallest ``seq``)."""
        stmt = self._filtered(select(audit_log), query)
        if before_seq is not None:
            stmt = stmt.where(audit_log.c.seq < before_seq)
        stmt = stmt.order_by(audit_log.c.seq.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(stmt)]

    @staticmethod
    def _filtered(stmt: Select[Any], query: AuditQuery) -> Select[Any]:
        c = audit_log.c
        if query.org_id is not None:
            stmt = stmt.where(c.org_id == query.org_id)
        if query.user_id is not None:
            stmt = stmt.where(c.user_id == query.user_id)
        if query.action is not None:
            stmt = stmt.where(c.action == query.action)
        if query.actions is not None:
            stmt = stmt.where(c.action.in_(sorted(query.actions)))
        if query.target is not None:
            stmt = stmt.where(c.target == query.target)
        if query.since is not None:
            stmt = stmt.where(c.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(c.at < query.until)
        return stmt

    def entries(
        self,
        org_id: str | None = None,
        since: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        stmt = select(audit_log).where(audit_log.c.seq > after_seq)
        if org_id is not None:
            stmt = stmt.where(audit_log.c.org_id == org_id)
        if since is not None:
            stmt = stmt.where(audit_log.c.at >= since)
        if action is not None:
            stmt = stmt.where(audit_log.c.action == action)
        stmt = stmt.order_by(audit_log.c.seq).limit(limit)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(stmt)]

    def most_looked_up(self, org_id: str, since: str, limit: int) -> list[tuple[str, int]]:
        """The values members of ``org_id`` looked up most often one at a time since
        ``since`` (a stored timestamp), with how often, most first: that organisation's own
        entries only (the ``org_id, at`` index). A bulk look-up's entry keeps its values in
        its detail, not as its target, and is not counted: a list swept by a sensor would
        crowd out what people asked."""
        count = func.count()
        stmt = (
            select(audit_log.c.target, count)
            .where(audit_log.c.org_id == org_id)
            .where(audit_log.c.at >= since)
            .where(audit_log.c.action == "lookup")
            .where(audit_log.c.target.is_not(None))
            .group_by(audit_log.c.target)
            .order_by(count.desc(), audit_log.c.target)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(str(target), int(times)) for target, times in conn.execute(stmt)]

    def _all_rows(self) -> Iterator[Any]:
        last = 0
        with self.engine.connect() as conn:
            while True:
                rows = list(
                    conn.execute(
                        select(audit_log)
                        .where(audit_log.c.seq > last)
                        .order_by(audit_log.c.seq)
                        .limit(5000)
                    )
                )
                yield from rows
                if len(rows) < 5000:
                    return
                last = rows[-1].seq

    def verify(self) -> tuple[int, list[Break]]:
        """Walk the whole chain; answer how many entries were checked and every break."""
        check = self.verify_chain()
        return check.count, list(check.breaks)

    def verify_chain(self) -> ChainCheck:
        """Walk the whole chain: how many entries, the newest one checked, every break. Once
        old entries were archived the chain starts from the anchor (`audit_anchor.start`):
        the first entry left must follow the last one archived."""
        with self.engine.connect() as conn:
            anchor = audit_anchor.start(conn, GENESIS)
        breaks = [
            Break(anchor.seq, f"the archive anchor is not to be trusted: {problem}")
            for problem in anchor.problems
        ]
        prev = anchor.hash
        count = 0
        last: Any = None
        for row in self._all_rows():
            count += 1
            if row.prev_hash != prev:
                reason = "does not follow the entry before it (deleted or inserted)"
                if last is None and anchor.archives:
                    reason = (
                        f"does not follow the last archived entry ({anchor.seq}): entries "
                        "after the archive were deleted, or the anchor was changed"
                    )
                breaks.append(Break(row.seq, reason, ORDER_BROKEN, row.org_id))
            elif last is None and row.seq <= anchor.seq:
                breaks.append(
                    Break(
                        row.seq,
                        f"is numbered at or before the last archived entry ({anchor.seq})",
                        ORDER_BROKEN,
                        row.org_id,
                    )
                )
            recomputed = entry_hash(
                row.prev_hash, row.at, row.user_id, row.org_id, row.action, row.target, row.detail
            )
            if recomputed != row.hash:
                breaks.append(
                    Break(
                        row.seq,
                        "its content does not match its hash (changed)",
                        CONTENT_CHANGED,
                        row.org_id,
                    )
                )
            prev = row.hash
            last = row
        if last is None and anchor.archives:
            # Archiving appends an entry that says so: an anchor with nothing after it lost it.
            breaks.append(
                Break(
                    anchor.seq + 1,
                    "no entry follows the archive anchor: the entry that records the archive "
                    "and every one after it were deleted",
                    ORDER_BROKEN,
                )
            )
        return ChainCheck(
            count,
            None if last is None else int(last.seq),
            None if last is None else str(last.at),
            tuple(breaks),
            anchor.seq if anchor.archives else None,
        )


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(
        r.seq,
        r.at,
        r.user_id,
        r.org_id,
        r.action,
        r.target,
        orjson.loads(r.detail),
        r.prev_hash,
        r.hash,
    )
