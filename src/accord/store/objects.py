"""Versioned STIX objects: their rows written in a write's transaction, read through the rule.

Every version is kept, keyed by ``(id, modified, owner_org)``: each organisation's holding of
an object is its own (accord.model.holdings says who may store which version). ``is_latest``
marks the newest version of each holding, so that "the current state of everything" is one
indexed scan. Revoked objects are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Row,
    Select,
    bindparam,
    or_,
    select,
    update,
)

from accord.model.extension import ACCORD_IDENTITY_ID
from accord.model.holdings import Holding
from accord.model.networks import prefix_of
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.browse import statement
from accord.store.change_marks import newest_mark
from accord.store.dialects import backend_for
from accord.store.engine_state import engine_state
from accord.store.layout import Layout
from accord.store.plans import ordered
from accord.store.prepared import InList, Prepared, list_param
from accord.store.records import NewVersion, ObjectQuery, Outcome, Reference, StoredObject
from accord.store.schema import (
    net_prefixes,
    object_audience,
    object_refs,
    objects,
    observables,
)
from accord.store.search_index import index_versions
from accord.store.visibility import latest, viewer_params, visible_rule, visible_to

__all__ = ["ObjectQuery", "ObjectStore", "Written", "write_versions"]

CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits
WRITE_LOCK = 0x0ACC0B1E  # the write lock (Backend.lock_writes) serialising object writes

OBJECT_COLUMNS = (
    objects.c.seq,
    objects.c.id,
    objects.c.modified,
    objects.c.type,
    objects.c.tlp,
    objects.c.owner_org,
    objects.c.is_latest,
    objects.c.revoked,
    objects.c.date_added,
    objects.c.raw,
)
OBJECT_ROW = Layout(OBJECT_COLUMNS)
_SEQ, _ID, _MODIFIED, _TYPE, _TLP, _OWNER_ORG, _IS_LATEST, _REVOKED, _DATE_ADDED, _RAW = (
    OBJECT_ROW.at(*(column.key for column in OBJECT_COLUMNS))
)


_INSERT_COLUMNS = (
    "seq",
    "id",
    "modified",
    "type",
    "spec_version",
    "created_by_ref",
    "revoked",
    "is_latest",
    "tlp",
    "owner_org",
    "owner_user",
    "date_added",
    "raw",
)
_OBSERVABLE_INSERT_COLUMNS = (
    "seq",
    "kind",
    "value",
    "host",
    "lo",
    "hi",
    "rdomain",
    "source",
    "simple",
    "path",
)


@contextmanager
def _reading(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    """The caller's connection, or one of our own for the duration."""
    if connection is not None:
        yield connection
        return
    with engine.connect() as conn:
        yield conn


def now_key() -> str:
    """The current time in the store's fixed-width timestamp form."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_from_row(row: Row[Any] | Any) -> StoredObject:
    return StoredObject(
        seq=row.seq,
        id=row.id,
        modified=row.modified,
        type=row.type,
        tlp=_TLPS[row.tlp],
        owner_org=row.owner_org,
        is_latest=bool(row.is_latest),
        revoked=bool(row.revoked),
        date_added=row.date_added,
        raw=row.raw,
    )


# Statements on the look-up path (accord.store.prepared): compiled once, run on the driver.
_GET_MANY = Prepared(
    select(*OBJECT_COLUMNS)
    .where(InList(objects.c.id, list_param("ids")))
    .where(latest(objects))
    .where(visible_rule(objects))
)
_REFERENCING = Prepared(
    select(*OBJECT_COLUMNS, object_refs.c.role, object_refs.c.ref)
    .select_from(ordered(object_refs, objects, objects.c.seq == object_refs.c.seq))
    .where(InList(object_refs.c.ref, list_param("ids")))
    .where(InList(object_refs.c.role, list_param("roles")))
    .where(latest(objects))
    .where(visible_rule(objects))
    .order_by(objects.c.seq)
    .limit(bindparam("limit", type_=Integer()))
)
_ROLE, _REF = _REFERENCING.layout.at("role", "ref")


_TLPS = tuple(Tlp)  # Tlp(n) is slow; the levels are 0..4 in order


def stored_from_tuple(row: Sequence[Any]) -> StoredObject:
    """A StoredObject from a prepared row that starts with OBJECT_COLUMNS (`OBJECT_ROW`)."""
    return StoredObject(
        seq=row[_SEQ],
        id=row[_ID],
        modified=row[_MODIFIED],
        type=row[_TYPE],
        tlp=_TLPS[row[_TLP]],
        owner_org=row[_OWNER_ORG],
        is_latest=bool(row[_IS_LATEST]),
        revoked=bool(row[_REVOKED]),
        date_added=row[_DATE_ADDED],
        raw=row[_RAW],
    )


@dataclass(frozen=True, slots=True)
class Written:
    """What `write_versions` wrote: an outcome per version, and the fresh versions with
    their sequence numbers (``latest``: the ``(id, modified)`` of those that became their
    object's latest version)."""

    outcomes: list[Outcome]
    seqs: list[int]
    fresh: list[NewVersion]
    latest: set[tuple[str, str]]


def write_versions(
    conn: Connection,
    versions: Sequence[NewVersion],
    owner_org: str,
    owner_user: str | None,
    origin_node: str | None = None,
) -> Written:
    """Store the versions' rows (objects, audience, observables, network prefixes,
    references) in ``conn``'s transaction; answer, per version, stored or duplicate, and
    the fresh versions. Only `accord.store.version_writer` calls it: a write goes on with
    sighting facts and correlation there.

    An older version arriving after a newer one is stored as history; the newest
    ``modified`` per id stays the latest.
    """
    backend = backend_for(conn)
    # Writers take turns: sequence numbers are handed out inside the lock and the lock
    # lasts until commit, so versions become visible in sequence order and a TAXII
    # client paging by sequence never skips one that commits late.
    backend.lock_writes(conn, WRITE_LOCK)
    existing = backend.stored_versions(
        conn, sorted({version.id for version in versions}), owner_org
    )
    outcomes: list[Outcome] = []
    fresh: list[NewVersion] = []
    newest: dict[str, str] = {}  # id -> newest modified among fresh versions
    for version in versions:
        known = existing.setdefault(version.id, {})
        if version.modified in known:
            outcomes.append("duplicate")
            continue
        known[version.modified] = False
        outcomes.append("stored")
        fresh.append(version)
        if version.modified > newest.get(version.id, ""):
            newest[version.id] = version.modified
    if not fresh:
        return Written(outcomes, [], [], set())

    # Which ids get a new latest version, and whose old latest must step down.
    superseded: list[str] = []
    latest_key: set[tuple[str, str]] = set()
    for object_id, modified in newest.items():
        stored_latest = [m for m, flag in existing[object_id].items() if flag]
        if stored_latest and stored_latest[0] > modified:
            continue
        latest_key.add((object_id, modified))
        if stored_latest:
            superseded.append(object_id)
    for start in range(0, len(superseded), CHUNK):
        conn.execute(
            update(objects)
            .where(objects.c.id.in_(superseded[start : start + CHUNK]))
            .where(objects.c.owner_org == owner_org)
            .where(objects.c.is_latest)
            .values(is_latest=False)
        )

    added = now_key()
    seqs = backend.allocate_seqs(conn, objects, len(fresh), above=newest_mark(conn))
    # The column only when a peer sent the versions: a local write names it not at all.
    origin = () if origin_node is None else (origin_node,)
    backend.bulk_insert(
        conn,
        objects,
        _INSERT_COLUMNS + ("valid_until",) + (("origin_node",) if origin else ()),
        [
            (
                seq,
                v.id,
                v.modified,
                v.type,
                v.spec_version,
                v.created_by_ref,
                v.revoked,
                (v.id, v.modified) in latest_key,
                int(v.tlp),
                owner_org,
                owner_user,
                added,
                v.raw,
                v.valid_until,
                *origin,
            )
            for seq, v in zip(seqs, fresh, strict=True)
        ],
    )
    backend.bulk_insert(
        conn,
        object_audience,
        ("seq", "principal"),
        [
            (seq, principal)
            for seq, version in zip(seqs, fresh, strict=True)
            for principal in version.audience
        ],
    )
    backend.bulk_insert(
        conn,
        observables,
        _OBSERVABLE_INSERT_COLUMNS,
        [
            (
                seq,
                item.observable.kind,
                item.observable.value,
                item.observable.host,
                item.observable.lo,
                item.observable.hi,
                item.observable.rdomain,
                item.source,
                item.simple,
                item.path,
            )
            for seq, version in zip(seqs, fresh, strict=True)
            for item in version.observables
        ],
    )
    prefixes = {
        (item.observable.kind, prefix)
        for version in fresh
        for item in version.observables
        if (prefix := prefix_of(item.observable)) is not None
    }
    backend.insert_missing(
        conn, net_prefixes, [{"kind": kind, "prefix": prefix} for kind, prefix in prefixes]
    )
    backend.bulk_insert(
        conn,
        object_refs,
        ("seq", "role", "ref"),
        [
            (seq, role, ref)
            for seq, version in zip(seqs, fresh, strict=True)
            for role, ref in version.references
        ],
    )
    index_versions(conn, list(zip(seqs, fresh, strict=True)))
    engine_state(conn.engine).object_changes.written += len(fresh)  # under the write lock
    return Written(outcomes, seqs, fresh, latest_key)


class ObjectStore:
    """Reads object versions; every read takes a :class:`Viewer`. Writes go through
    `accord.store.version_writer.VersionWriter` (``Store.writer``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known_versions(self, ids: Sequence[str], owner_org: str) -> dict[str, dict[str, bool]]:
        """Which versions of these ids ``owner_org`` holds (``{id: {modified: is_latest}}``).

        Ingest uses it to skip the work for versions the organisation has already; it
        reveals nothing of other organisations' holdings.
        """
        with self.engine.connect() as conn:
            return backend_for(conn).stored_versions(conn, sorted(set(ids)), owner_org)

    def known_to_peer(self, object_id: str, viewer: Viewer) -> bool:
        """Whether a peer node (``viewer`` with a crossing) knows a version of ``object_id``
        held here: one held by an organisation it hosts, received from it, or one that may
        cross to it. For a peer's anonymous sighting (accord.ingest.from_peer), which travels
        to where the object it sights is held; asked only of what the peer may know, so that
        accepting or refusing a sighting tells it nothing of objects hidden from it."""
        crossing = viewer.crossing
        assert crossing is not None, "a peer's viewer"
        stmt = (
            select(objects.c.seq)
            .where(objects.c.id == object_id)
            .where(
                or_(
                    objects.c.owner_org.in_(sorted(crossing.hosted_org_ids)),
                    objects.c.origin_node == crossing.node_id,
                    visible_to(viewer, objects),
                )
            )
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(stmt).first() is not None

    def count_stored(self, keys: Sequence[tuple[str, str]], owner_org: str) -> tuple[int, int]:
        """How many of these ``(id, modified key)`` versions ``owner_org`` holds already, and
        how many stored versions (anyone's) share an id with them (-1, -1: not answered)."""
        if not keys:
            return 0, 0
        with self.engine.connect() as conn:
            return backend_for(conn).count_stored(conn, keys, owner_org, ACCORD_IDENTITY_ID)

    def holdings(self, viewer: Viewer, ids: Sequence[str]) -> dict[str, Holding]:
        """What is stored of these ids, as the versioning rule (accord.model.holdings) needs
        it for a write by ``viewer``'s organisation. Other organisations' producers are
        reported only from versions the viewer may see (the visibility rule, in SQL)."""
        found: dict[str, Holding] = {}
        wanted = sorted(set(ids))
        seen = visible_to(viewer, objects).label("seen")
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                stmt = (
                    select(
                        objects.c.id,
                        objects.c.modified,
                        objects.c.is_latest,
                        objects.c.owner_org,
                        objects.c.created_by_ref,
                        seen,
                    )
                    .where(objects.c.id.in_(wanted[start : start + CHUNK]))
                    .order_by(objects.c.seq)
                )
                for row in conn.execute(stmt):
                    holding = found.setdefault(row.id, Holding())
                    if row.owner_org == ACCORD_IDENTITY_ID:
                        holding.node_versions.add(row.modified)
                        continue
                    if holding.creator is None:
                        holding.creator = row.owner_org
                    if row.owner_org == viewer.org_id:
                        holding.own[row.modified] = bool(row.is_latest)
                        continue
                    holding.others.add(row.modified)
                    if row.seen:
                        holding.seen_producers.add(row.created_by_ref)
        return found

    # -- reading -------------------------------------------------------------------------

    def _select(self, viewer: Viewer) -> Select[Any]:
        return select(*OBJECT_COLUMNS).where(visible_to(viewer, objects))

    def get(
        self, viewer: Viewer, object_id: str, modified: str | None = None
    ) -> StoredObject | None:
        """The newest version of an object that the viewer may see (or the version
        ``modified``). A newer version the viewer may not see changes nothing: the answer is
        the one ``versions`` ends with (issue 14), so that neither tells of a hidden version.
        Where organisations hold the same version, the first stored comes first."""
        stmt = self._select(viewer).where(objects.c.id == object_id)
        if modified is not None:
            stmt = stmt.where(objects.c.modified == modified)
        stmt = stmt.order_by(objects.c.modified.desc(), objects.c.seq).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else stored_from_row(row)

    def versions(self, viewer: Viewer, object_id: str) -> list[StoredObject]:
        """Every version of an object the viewer may see, oldest first."""
        stmt = self._select(viewer).where(objects.c.id == object_id).order_by(objects.c.modified)
        with self.engine.connect() as conn:
            return [stored_from_row(row) for row in conn.execute(stmt)]

    def query(self, viewer: Viewer, query: ObjectQuery) -> list[StoredObject]:
        """Latest versions the viewer may see that match the filters (words, labels,
        dates...: `ObjectQuery`), in storage order or its reverse, after the cursor: at most
        ``query.limit`` of them (`accord.store.browse`)."""
        with self.engine.connect() as conn:
            stmt = statement(backend_for(conn), viewer, query, OBJECT_COLUMNS)
            return [stored_from_row(row) for row in conn.execute(stmt)]

    def iterate(
        self, viewer: Viewer, types: Sequence[str] = (), page: int = 2000
    ) -> Iterator[StoredObject]:
        """Every latest version the viewer may see, streamed page by page."""
        cursor = 0
        while True:
            batch = self.query(viewer, ObjectQuery(types=types, after_seq=cursor, limit=page))
            yield from batch
            if len(batch) < page:
                return
            cursor = batch[-1].seq

    def get_many(
        self, viewer: Viewer, ids: Sequence[str], connection: Connection | None = None
    ) -> list[StoredObject]:
        """The latest versions of these ids that the viewer may see (any order)."""
        if not ids:
            return []
        with _reading(self.engine, connection) as conn:
            backend = backend_for(conn)
            params = viewer_params(backend, viewer) | {"ids": backend.encode_list(sorted(set(ids)))}
            return [stored_from_tuple(row) for row in _GET_MANY.rows(conn, params)]

    def referencing(
        self,
        viewer: Viewer,
        ids: Sequence[str],
        roles: Sequence[str],
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> list[Reference]:
        """Latest visible objects that name any of ``ids`` in one of ``roles`` (e.g. the
        relationships whose source or target is an indicator, the sightings of it)."""
        if not ids:
            return []
        with _reading(self.engine, connection) as conn:
            backend = backend_for(conn)
            params = viewer_params(backend, viewer) | {
                "ids": backend.encode_list(sorted(set(ids))),
                "roles": backend.encode_list(list(roles)),
                "limit": limit,
            }
            return [
                Reference(row[_ROLE], row[_REF], stored_from_tuple(row))
                for row in _REFERENCING.rows(conn, params)
            ]

    def count_latest(self, viewer: Viewer) -> dict[str, int]:
        """Number of latest versions per type that the viewer may see."""
        from sqlalchemy import func

        stmt = (
            select(objects.c.type, func.count())
            .where(visible_to(viewer, objects))
            .where(objects.c.is_latest)
            .group_by(objects.c.type)
        )
        with self.engine.connect() as conn:
            return {kind: int(count) for kind, count in conn.execute(stmt)}
