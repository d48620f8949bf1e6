"""What the TAXII 2.1 server asks of the store: pages of object versions, their manifests,
deletions, collection definitions and status resources.

Every read goes through :func:`accord.store.visibility.visible_to`, in the query itself: a
collection never serves, counts or pages past what the caller may not see.

- Filtering (TAXII 2.1 section 3.5): ``added_after`` is ``date_added > t``; ``match[id]``,
  ``match[type]``, ``match[spec_version]``; ``match[version]`` is ``last`` (the default, the
  latest version), ``first`` (the earliest version the caller may see), ``all`` or exact
  timestamps, any combination of them.
- Pagination (section 3.4): keyset on ``objects.seq``, the store's insertion order, which
  follows ``date_added``: a page is one range scan of the primary key, however deep, and
  objects added while a client pages come after its position (each version has one seq).
- Sorting (section 3.3): ascending ``date_added``, ties in insertion order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from accord.model.references import references_of
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer, group_principal
from accord.store.audit import AuditLog, Event
from accord.store.change_marks import mark_changed
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.engine_state import engine_state
from accord.store.objects import CHUNK, WRITE_LOCK, now_key
from accord.store.plans import indexed, unindexed
from accord.store.schema import (
    correlation_backlog,
    correlations,
    fuzzy_hashes,
    object_audience,
    object_feeds,
    object_refs,
    objects,
    observables,
    sighting_facts,
    taxii_collections,
    taxii_status,
)
from accord.store.search_index import unindex_versions
from accord.store.visibility import latest, visible_to


@dataclass(frozen=True, slots=True)
class Scope:
    """Which objects a collection holds, on top of what the caller may see."""

    tlp: Tlp | None = None  # only this TLP level
    group_id: str | None = None  # only objects shared with this sharing group
    feed_id: str | None = None  # only objects that came from this feed


EVERYTHING = Scope()
# The id of the collection of everything a caller may see: the same on every node, so that a
# feed or a peer can be pointed at "everything" anywhere (accord.taxii.collections).
EVERYTHING_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://accord.example/taxii/everything"))


@dataclass(frozen=True, slots=True)
class Match:
    """TAXII 2.1 filters (section 3.5); timestamps in the store's key form."""

    added_after: str | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()  # "last", "first", "all" or timestamps; empty: "last"
    spec_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    """One object version as a TAXII page lists it."""

    seq: int
    id: str
    modified: str  # version key
    spec_version: str
    date_added: str
    tlp: Tlp
    raw: str | None  # the object's JSON; None for manifests and version lists

    @property
    def version(self) -> str:
        """The version as TAXII shows it: the timestamp, in milliseconds where that loses
        nothing (as STIX producers write it)."""
        key = self.modified
        return key[:23] + "Z" if key.endswith("000Z") else key


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    """A configured collection (accord.taxii.collections gives it meaning)."""

    id: str
    title: str
    description: str | None
    kind: str  # tlp, group or feed
    tlp: Tlp | None
    group_id: str | None
    feed_id: str | None
    writable: bool


DeleteOutcome = Literal["deleted", "forbidden", "missing"]


def _as_table(clause: Any) -> Table:
    # visible_to works on the objects table or an alias of it (same columns).
    return cast(Table, clause)


def _scope_conditions(scope: Scope, table: Table) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if scope.tlp is not None:
        found.append(table.c.tlp == int(scope.tlp))
    if scope.group_id is not None:
        found.append(
            exists()
            .where(object_audience.c.seq == table.c.seq)
            .where(object_audience.c.principal == group_principal(scope.group_id))
        )
    if scope.feed_id is not None:
        found.append(
            exists()
            .where(object_feeds.c.seq == table.c.seq)
            .where(object_feeds.c.feed_id == scope.feed_id)
        )
    return found


class TaxiiStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reading --------------------------------------------------------------------------

    def page(
        self,
        viewer: Viewer,
        scope: Scope,
        match: Match,
        after: int = 0,
        limit: int = 100,
        raw: bool = True,
    ) -> list[Entry]:
        """Up to ``limit`` versions after position ``after``, in ``date_added`` order."""
        columns = [
            objects.c.seq,
            objects.c.id,
            objects.c.modified,
            objects.c.spec_version,
            objects.c.date_added,
            objects.c.tlp,
        ]
        if raw:
            columns.append(objects.c.raw)
        stmt = self._filtered(select(*columns), viewer, scope, match)
        if match.added_after is not None and after == 0:
            # Where the range starts, from the date_added index: the page then scans the
            # primary key from there rather than from the start.
            added = indexed(objects, "ix_objects_date_added", "added")
            start = (
                select(func.min(added.c.seq))
                .where(added.c.date_added > match.added_after)
                .scalar_subquery()
            )
            stmt = stmt.where(objects.c.seq >= start)
        stmt = stmt.where(objects.c.seq > after).order_by(objects.c.seq).limit(limit)
        levels = list(Tlp)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if raw:
            return [Entry(s, i, m, v, d, levels[t], r) for s, i, m, v, d, t, r in rows]
        return [Entry(s, i, m, v, d, levels[t], None) for s, i, m, v, d, t in rows]

    def newest_seq(self) -> int:
        """The largest position stored (0 for none). Every version at or below it has
        committed: writers take sequence numbers inside the write lock and hold it to their
        commit (`accord.store.objects.write_versions`). A reader that asks this first and
        then gets a short `page` has seen every version up to it that it may see, so it may
        move its position there without scanning the hidden ones again. A position only:
        never shown to a caller (it counts what the caller may not see)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(objects.c.seq), 0))).scalar_one())

    def _filtered(
        self, stmt: Select[Any], viewer: Viewer, scope: Scope, match: Match
    ) -> Select[Any]:
        stmt = stmt.where(visible_to(viewer, objects))
        for condition in _scope_conditions(scope, objects):
            stmt = stmt.where(condition)
        if match.ids:
            stmt = stmt.where(objects.c.id.in_(sorted(set(match.ids))))
        if match.types:
            # Not the (is_latest, type) index either, which statistics would offer SQLite
            # as a skip-scan: the page follows the primary key (accord.store.plans).
            stmt = stmt.where(unindexed(objects.c.type).in_(sorted(set(match.types))))
        if match.spec_versions:
            stmt = stmt.where(objects.c.spec_version.in_(sorted(set(match.spec_versions))))
        if match.added_after is not None:
            # Not the date_added index (SQLite would scan all of it and sort by seq): the
            # page follows the primary key; `page` finds where the range starts.
            plain = func.coalesce(objects.c.date_added, "")
            stmt = stmt.where(plain > match.added_after)
        version = self._version_condition(
            viewer, scope, match.versions or ("last",), bool(match.ids)
        )
        if version is not None:
            stmt = stmt.where(version)
        return stmt

    def _version_condition(
        self, viewer: Viewer, scope: Scope, versions: Sequence[str], match_ids: bool
    ) -> ColumnElement[bool] | None:
        if "all" in versions:
            return None
        options: list[ColumnElement[bool]] = []
        if "last" in versions and match_ids:
            # Asked for by id, the last version is the newest the caller may see, as REST's
            # GET /objects/{id} answers: a hidden newer version must not make the object
            # vanish while its versions are listed (issue 14).
            later = _as_table(objects.alias("later"))
            newer = (
                exists()
                .where(later.c.id == objects.c.id)
                .where(later.c.modified > objects.c.modified)
                .where(visible_to(viewer, later))
            )
            for condition in _scope_conditions(scope, later):
                newer = newer.where(condition)
            options.append(~newer)
        elif "last" in versions:
            options.append(latest(objects))
        if "first" in versions:
            earlier = _as_table(objects.alias("earlier"))
            before = (
                exists()
                .where(earlier.c.id == objects.c.id)
                .where(earlier.c.modified < objects.c.modified)
                .where(visible_to(viewer, earlier))
            )
            for condition in _scope_conditions(scope, earlier):
                before = before.where(condition)
            options.append(~before)
        stamps = sorted({v for v in versions if v not in ("last", "first")})
        if stamps:
            options.append(objects.c.modified.in_(stamps))
        return options[0] if len(options) == 1 else or_(*options)

    def holders(self, seqs: Sequence[int]) -> dict[int, tuple[str, frozenset[str]]]:
        """For versions about to leave for a peer node (accord.export.for_peer): the
        organisation holding each and the principals of its audience."""
        found: dict[int, tuple[str, frozenset[str]]] = {}
        wanted = sorted(set(seqs))
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                audience: dict[int, set[str]] = {}
                for seq, principal in conn.execute(
                    select(object_audience.c.seq, object_audience.c.principal).where(
                        object_audience.c.seq.in_(chunk)
                    )
                ):
                    audience.setdefault(seq, set()).add(principal)
                for seq, owner in conn.execute(
                    select(objects.c.seq, objects.c.owner_org).where(objects.c.seq.in_(chunk))
                ):
                    found[seq] = (owner, frozenset(audience.get(seq, ())))
        return found

    # -- deleting (TAXII 2.1 section 5.7) ---------------------------------------------------

    def delete(
        self,
        viewer: Viewer,
        org_id: str,
        user_id: str,
        object_id: str,
        scope: Scope,
        match: Match,
    ) -> tuple[DeleteOutcome, int]:
        """Delete the versions of ``object_id`` that match (all by default), with their
        index, audience, reference and provenance rows, and record it in the audit log.

        Only versions the caller may see are considered (others answer "missing", exactly
        like an unknown id); only the caller's organisation's own holding is deleted, and
        where it holds none of them, nothing is ("forbidden").
        """
        match = Match(
            ids=(object_id,),
            versions=match.versions or ("all",),
            spec_versions=match.spec_versions,
        )
        stmt = self._filtered(
            select(objects.c.seq, objects.c.owner_org, objects.c.is_latest, objects.c.modified),
            viewer,
            scope,
            match,
        )
        with write_transaction(self.engine) as conn:
            # Under the write lock, as a write of versions is: the change is marked with a
            # number of the objects' sequence (accord.store.change_marks).
            backend_for(conn).lock_writes(conn, WRITE_LOCK)
            rows = conn.execute(stmt).all()
            if not rows:
                return "missing", 0
            rows = [row for row in rows if row.owner_org == org_id]
            if not rows:
                return "forbidden", 0
            seqs = [row.seq for row in rows]
            self._delete_versions(conn, seqs)
            if any(row.is_latest for row in rows):
                # What the exports and matchers hold changed with no version written.
                promoted = self._promote_latest(conn, object_id, org_id)
                mark_changed(conn, [] if promoted is None else [promoted])
            AuditLog(self.engine).append(
                Event(
                    action="delete",
                    user_id=user_id,
                    org_id=org_id,
                    target=object_id,
                    detail={"via": "TAXII", "versions": sorted(row.modified for row in rows)},
                ),
                connection=conn,
            )
        return "deleted", len(seqs)

    def _delete_versions(self, conn: Connection, seqs: list[int]) -> None:
        for start in range(0, len(seqs), CHUNK):
            chunk = seqs[start : start + CHUNK]
            # object_refs is keyed by what is referenced: its rows are found again from the
            # versions' own JSON, the way they were written.
            parsed = [
                (seq, orjson.loads(raw))
                for seq, raw in conn.execute(
                    select(objects.c.seq, objects.c.raw).where(objects.c.seq.in_(chunk))
                )
            ]
            keys = [
                {"ref": ref, "role": role, "seq": seq}
                for seq, obj in parsed
                for role, ref in references_of(obj)
            ]
            if keys:
                conn.execute(
                    delete(object_refs)
                    .where(object_refs.c.ref == bindparam("ref"))
                    .where(object_refs.c.role == bindparam("role"))
                    .where(object_refs.c.seq == bindparam("seq")),
                    keys,
                )
            # Rows derived from the versions go with them: correlations from either end
            # (they would keep naming an object that is gone), sighting facts and fuzzy-hash
            # buckets (whose foreign keys would otherwise refuse the delete), a place in the
            # correlation backlog.
            conn.execute(
                delete(correlations).where(
                    or_(correlations.c.seq.in_(chunk), correlations.c.other_seq.in_(chunk))
                )
            )
            unindex_versions(conn, parsed)  # its words and labels
            derived = (observables, object_audience, object_feeds, sighting_facts, fuzzy_hashes)
            for table in (*derived, correlation_backlog):
                conn.execute(delete(table).where(table.c.seq.in_(chunk)))
            conn.execute(delete(objects).where(objects.c.seq.in_(chunk)))
            engine_state(conn.engine).object_changes.deleted += len(chunk)

    def _promote_latest(self, conn: Connection, object_id: str, org_id: str) -> int | None:
        """Make the newest version left the latest; its sequence number (None: none left)."""
        newest = conn.execute(
            select(objects.c.seq)
            .where(objects.c.id == object_id)
            .where(objects.c.owner_org == org_id)
            .order_by(objects.c.modified.desc())
            .limit(1)
        ).scalar()
        if newest is not None:
            conn.execute(update(objects).where(objects.c.seq == newest).values(is_latest=True))
        return None if newest is None else int(newest)

    # -- collections ----------------------------------------------------------------------

    def add_collection(
        self,
        title: str,
        kind: str,
        description: str | None = None,
        tlp: Tlp | None = None,
        group_id: str | None = None,
        feed_id: str | None = None,
        writable: bool = False,
        collection_id: str | None = None,
    ) -> CollectionRecord:
        record = CollectionRecord(
            id=collection_id or str(uuid.uuid4()),
            title=title,
            description=description,
            kind=kind,
            tlp=tlp,
            group_id=group_id,
            feed_id=feed_id,
            writable=writable,
        )
        with write_transaction(self.engine) as conn:
            conn.execute(
                insert(taxii_collections).values(
                    id=record.id,
                    title=title,
                    description=description,
                    kind=kind,
                    tlp=None if tlp is None else int(tlp),
                    group_id=group_id,
                    feed_id=feed_id,
                    writable=writable,
                    created=now_key(),
                )
            )
        return record

    def collections(self) -> list[CollectionRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(taxii_collections).order_by(
                    taxii_collections.c.created, taxii_collections.c.id
                )
            )
            return [
                CollectionRecord(
                    id=row.id,
                    title=row.title,
                    description=row.description,
                    kind=row.kind,
                    tlp=None if row.tlp is None else Tlp(row.tlp),
                    group_id=row.group_id,
                    feed_id=row.feed_id,
                    writable=bool(row.writable),
                )
                for row in rows
            ]

    # -- status resources (TAXII 2.1 section 4.3.1) ---------------------------------------

    def save_status(
        self, org_id: str, user_id: str, status: dict[str, Any], *events: Event
    ) -> None:
        """Keep a POST's status resource; `events` go to the audit log in the same write
        transaction (one per POST rather than two)."""
        details = {key: status.get(key, []) for key in ("successes", "failures", "pendings")}
        with write_transaction(self.engine) as conn:
            conn.execute(
                insert(taxii_status).values(
                    id=status["id"],
                    org_id=org_id,
                    user_id=user_id,
                    request_timestamp=status["request_timestamp"],
                    status=status["status"],
                    total_count=status["total_count"],
                    success_count=status["success_count"],
                    failure_count=status["failure_count"],
                    pending_count=status["pending_count"],
                    details=orjson.dumps(details).decode(),
                )
            )
            if events:
                AuditLog(self.engine).append(*events, connection=conn)

    def status(self, status_id: str, org_id: str) -> dict[str, Any] | None:
        """A status resource, for the organisation that made the request only."""
        stmt = (
            select(taxii_status)
            .where(taxii_status.c.id == status_id)
            .where(taxii_status.c.org_id == org_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return {
            "id": row.id,
            "status": row.status,
            "request_timestamp": row.request_timestamp,
            "total_count": row.total_count,
            "success_count": row.success_count,
            "failure_count": row.failure_count,
            "pending_count": row.pending_count,
            **orjson.loads(row.details),
        }
