"""Reading correlations (written at ingest by ``accord.store.correlations``).

**Reading** (``Correlations``): a correlation is shown only when both ends are latest and
visible to the viewer -- the visibility rule applies to both ends in the query. For an
over-correlating hub the reader counts, in SQL and through the rule, the objects *it* may see;
when those are no more than ``cap`` they are listed instead, so that whether a hub is "over"
reveals nothing about objects the viewer may not see.

**Warninglists and allowlists** are applied when reading, not when writing. The store may not
import ``accord.intel``, and a predicate handed to the write path would be missing whenever a
writer forgot it (the CLI, a feed pull, a test), so the stored correlations would depend on
who wrote them. Instead readers pass ``exclude`` (the layer above passes the node's
warninglists, as a test of an indexed value's text), and the viewer's own allowlist is read
from ``allowlist_entries`` here: a correlation whose hub or either value is excluded is not
shown, and not counted. Writing them costs little, since a popular warninglisted value (a
public resolver, a CDN) is over-correlating and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from accord.model.domains import parent_domains
from accord.model.observable_types import Observable
from accord.model.observables import detect
from accord.model.visibility import Viewer
from accord.store.correlations import (
    FILE_HUB,
    NETWORK_FAMILY,
    REVERSE,
    policy_for,
    relation_of,
)
from accord.store.objects import OBJECT_COLUMNS, _reading, stored_from_row, stored_from_tuple
from accord.store.observables import candidates
from accord.store.plans import indexed, ordered
from accord.store.prepared import InList, Prepared, encode_list, list_param
from accord.store.records import StoredObject
from accord.store.schema import (
    allowlist_entries,
    correlation_hubs,
    correlations,
    net_prefixes,
    objects,
    observables,
)
from accord.store.visibility import (
    cached_viewer_params,
    latest,
    viewer_params,
    visible_rule,
    visible_to,
)


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Correlation:
    """One object the viewer may see that correlates with another it may see."""

    source: str  # the id of the object correlated from
    relation: str
    value: str  # the source's observable
    other_value: str  # the other object's observable
    hub: str
    similarity: int | None
    obj: StoredObject

    def as_json(self) -> dict[str, Any]:
        body = self.obj.json()
        name = body.get("name")
        found: dict[str, Any] = {
            "id": self.obj.id,
            "type": self.obj.type,
            "name": name if isinstance(name, str) else None,
            "tlp": self.obj.tlp.label,
            "relation": self.relation,
            "value": self.value,
            "other_value": self.other_value,
        }
        if self.similarity is not None:
            found["similarity"] = self.similarity
        return found


@dataclass(frozen=True, slots=True)
class OverCorrelation:
    """A value joining more objects (that the viewer may see) than the cap: counted only."""

    value: str
    count: int

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass(slots=True)
class CorrelationResult:
    obj: StoredObject
    correlations: list[Correlation]
    over_correlating: list[OverCorrelation]
    truncated: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.obj.id,
            "correlations": [c.as_json() for c in self.correlations],
            "over_correlating": [o.as_json() for o in self.over_correlating],
            "truncated": self.truncated,
        }


Exclude = Callable[[str], bool]
"""Whether an indexed value (its text) must not correlate: it is on one of the node's lists."""


def excluding(check: Callable[[Observable], Sequence[Any]] | None) -> Exclude | None:
    """``exclude`` from a look-up's benign check (warninglists, the allowlist): a value on a
    list does not correlate; a list that names only its parent domain (``via_parent``) says
    nothing about the value itself."""
    if check is None:
        return None

    def excluded(value: str) -> bool:
        observable = detect(value)
        return observable is not None and any(
            not getattr(hit, "via_parent", False) for hit in check(observable)
        )

    return excluded


class SeqList(InList):
    """``column IN (the integers of one list parameter)``: object sequence numbers."""

    inherit_cache = True


@compiles(SeqList, "sqlite")
def _seq_list_sqlite(element: SeqList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} IN (SELECT value FROM json_each({compiler.process(element.param, **kw)}))"


@compiles(SeqList, "postgresql")
def _seq_list_postgresql(element: SeqList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    param = compiler.process(element.param, **kw)
    return f"{column} = ANY(CAST(string_to_array({param}, ',') AS bigint[]))"


def _encode_seqs(dialect: str, seqs: Sequence[int]) -> str:
    if dialect == "postgresql":
        return ",".join(str(int(seq)) for seq in seqs)
    return orjson.dumps([int(seq) for seq in seqs]).decode()


_SEQS = Prepared(
    lambda _dialect: (
        select(objects.c.seq)
        .where(InList(objects.c.id, list_param("ids")))
        .where(latest(objects))
        .where(visible_rule(objects))
    )
)


def _edges_select(own_end: bool) -> Select[Any]:
    """The correlations of the versions ``:seqs``, read from both ends of each pair (each side
    drives from its own index); the other end latest and visible. ``own_end``: the versions
    ``:seqs`` are read through the rule too (the rule on both ends: an object's page asks by
    id); without it they are trusted, and their seq heads the row (see `correlated_with`)."""

    def side(flipped: bool) -> Select[Any]:
        # The plan, written out (accord.store.plans): the sources (by primary key), their
        # rows through this end's index, the other ends by primary key.
        c = indexed(correlations, "ix_correlations_other_seq" if flipped else "ix_correlations_seq")
        other = cast(Table, objects.alias("other"))
        mine, theirs = (c.c.other_seq, c.c.seq) if flipped else (c.c.seq, c.c.other_seq)
        value, other_value = (
            (c.c.other_value, c.c.value) if flipped else (c.c.value, c.c.other_value)
        )
        columns = [getattr(other.c, column.name) for column in OBJECT_COLUMNS]
        source = ordered(c, other, other.c.seq == theirs)
        head: list[Any] = [mine.label("from_seq")]
        tail: list[Any] = []
        drive: Any = mine  # the column the list of sequence numbers is matched against
        if own_end:
            one = cast(Table, objects.alias("one"))
            source = ordered(ordered(one, c, mine == one.c.seq), other, other.c.seq == theirs)
            head, tail = [one.c.id], [one.c.seq.label("from_seq")]
            drive = one.c.seq
        stmt = (
            select(
                *head,
                c.c.relation,
                value,
                other_value,
                c.c.hub,
                c.c.similarity,
                literal(flipped).label("flipped"),
                *tail,
                *columns,
            )
            .select_from(source)
            .where(SeqList(drive, list_param("seqs")))
        )
        if own_end:
            stmt = stmt.where(latest(one)).where(visible_rule(one))
        return stmt.where(latest(other)).where(visible_rule(other))

    both = union_all(side(False), side(True)).subquery()
    return (
        select(both)
        .order_by(both.c.from_seq, both.c.seq)
        .limit(bindparam("limit", type_=Integer()))
    )


_EDGES = Prepared(lambda _dialect: _edges_select(own_end=True))


def correlated(
    conn: Connection,
    viewer: Viewer,
    ids: Sequence[str],
    limit: int = 1000,
    exclude: Exclude | None = None,
) -> list[Correlation]:
    """The stored correlations of these objects whose both ends ``viewer`` may see, minus
    those through excluded values and the viewer's allowlist (one query; the look-up's)."""
    if not ids:
        return []
    dialect = conn.dialect.name
    params = viewer_params(dialect, viewer) | {"ids": encode_list(dialect, sorted(set(ids)))}
    seqs = [row[0] for row in _SEQS.rows(conn, params)]
    if not seqs:
        return []
    params |= {"seqs": _encode_seqs(dialect, seqs), "limit": limit}
    # row: source id, relation, value, other value, hub, similarity, flipped, from_seq, other
    rows = _EDGES.rows(conn, params)
    return _kept(conn, viewer, exclude, rows, lambda row: str(row[0]), 8)


def correlated_with(
    conn: Connection,
    viewer: Viewer,
    sources: Mapping[int, str],
    limit: int = 1000,
    exclude: Exclude | None = None,
) -> list[Correlation]:
    """`correlated` for the object versions a look-up has just matched (``sources``: their
    sequence numbers and ids): one query, the rule applied in it to the other end.

    The sources must be versions the caller read through the rule in this request (the
    look-up's search query did): the viewer has just been shown them, so not checking them
    again reveals nothing, and saves two index probes per source. Every correlated object
    listed is still latest and visible to the viewer, checked in this query."""
    if not sources:
        return []
    dialect = conn.dialect.name
    params = {
        **cached_viewer_params(dialect, viewer),
        "seqs": _encode_seqs(dialect, sorted(sources)),
        "limit": limit,
    }
    # row: from_seq, relation, value, other value, hub, similarity, flipped, the other end
    rows = _EDGES_FROM.rows(conn, params)
    return _kept(conn, viewer, exclude, rows, lambda row: sources[row[0]], 7)


# On every look-up that finds something: prepared, so that it costs one index probe.
_OVER_HUBS = Prepared(
    lambda _dialect: (
        select(correlation_hubs.c.hub)
        .where(InList(correlation_hubs.c.hub, list_param("values")))
        .where(correlation_hubs.c.over)
    )
)


def over_hub_holders(
    conn: Connection,
    viewer: Viewer,
    held: Sequence[tuple[str, Observable]],
    exclude: Exclude | None = None,
) -> list[Correlation]:
    """Correlations through over-correlating values that the looked-up objects hold
    (``held``: an object's id and the observable it matched exactly).

    A hub's rows are dropped when it joins more than ``cap`` objects of *anyone*, but the
    cap applies to what the viewer may see (issue 14): three RED objects holding a value
    must not make a correlation vanish from a GREEN viewer's look-up. So the holders the
    viewer may see are read through the rule, and listed when they are no more than the cap.
    One indexed query when no looked-up value is over-correlating (the usual case)."""
    values = sorted({observable.value for _, observable in held})
    if not values:
        return []
    params = {"values": encode_list(conn.dialect.name, values)}
    over = {row[0] for row in _OVER_HUBS.rows(conn, params)}
    if not over:
        return []
    cap = policy_for(conn.engine).cap
    keep = _Filter(conn, viewer, exclude)
    found: list[Correlation] = []
    for object_id, observable in held:
        hub = observable.value
        if hub not in over or keep.excluded(hub):
            continue
        query = _live(viewer, object_id, observable, hub, holds=False)
        rows = sorted(conn.execute(query.limit(cap + 1)).all(), key=lambda r: r.seq)
        if len(rows) > cap:
            continue  # over the cap for this viewer too: counted by the correlations route
        for row in rows:
            if not keep.excluded(row.found):
                other = stored_from_row(row)
                found.append(Correlation(object_id, "same-value", hub, row.found, hub, None, other))
    return found


def _kept(
    conn: Connection,
    viewer: Viewer,
    exclude: Exclude | None,
    rows: Sequence[Sequence[Any]],
    source: Callable[[Sequence[Any]], str],
    other_at: int,
) -> list[Correlation]:
    """Edge rows as correlations, minus those through excluded or allowlisted values;
    ``source`` names a row's own end, the other end's columns start at ``other_at``."""
    if not rows:
        return []
    keep = _Filter(conn, viewer, exclude)
    found = []
    for row in rows:
        if keep.excluded(row[2]) or keep.excluded(row[3]) or keep.excluded(row[4]):
            continue
        relation = REVERSE[row[1]] if row[6] else row[1]
        found.append(
            Correlation(
                source(row),
                relation,
                row[2],
                row[3],
                row[4],
                row[5],
                stored_from_tuple(row[other_at:]),
            )
        )
    return found


_EDGES_FROM = Prepared(lambda _dialect: _edges_select(own_end=False))


class Correlations:
    """What correlates with an object, as one viewer may see it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of_object(
        self,
        viewer: Viewer,
        object_id: str,
        exclude: Exclude | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> CorrelationResult | None:
        """None when the viewer may not see the object."""
        with _reading(self.engine, connection) as conn:
            row = conn.execute(
                select(*OBJECT_COLUMNS)
                .where(objects.c.id == object_id)
                .where(latest(objects))
                .where(visible_to(viewer, objects))
            ).first()
            if row is None:
                return None
            obj = stored_from_row(row)
            found = correlated(conn, viewer, [object_id], limit + 1, exclude)
            truncated = len(found) > limit
            result = CorrelationResult(obj, found[:limit], [], truncated)
            self._over(conn, viewer, result, exclude, limit)
        return result

    def _over(
        self,
        conn: Connection,
        viewer: Viewer,
        result: CorrelationResult,
        exclude: Exclude | None,
        limit: int,
    ) -> None:
        """Over-correlating hubs of the object: listed when the viewer may see no more than
        the cap of their objects, else counted; both through the rule."""
        cap = policy_for(self.engine).cap
        obj = result.obj
        own = [
            Observable(r.kind, r.value, r.host, r.lo, r.hi, r.rdomain)
            for r in conn.execute(select(observables).where(observables.c.seq == obj.seq))
        ]
        if not own:
            return
        prefixes: dict[str, list[int]] = {}
        for kind, prefix in conn.execute(select(net_prefixes.c.kind, net_prefixes.c.prefix)):
            prefixes.setdefault(kind, []).append(int(prefix))
        hubs: dict[str, tuple[Observable, str]] = {}  # hub -> (own observable, relation)
        for observable in own:
            for target, found in candidates(observable, prefixes).values.items():
                hubs.setdefault(target, (observable, relation_of(found, observable.kind)))
        over = [
            row[0]
            for row in conn.execute(
                select(correlation_hubs.c.hub)
                .where(correlation_hubs.c.hub.in_(sorted(hubs)))
                .where(correlation_hubs.c.over)
            )
        ]
        keep = _Filter(conn, viewer, exclude)
        listed = {(c.obj.id, c.value, c.other_value) for c in result.correlations}
        for hub in sorted(over):
            observable, relation = hubs[hub]
            if keep.excluded(hub) or keep.excluded(observable.value):
                continue
            query = _live(viewer, obj.id, observable, hub, relation == "same-value")
            rows = sorted(conn.execute(query.limit(cap + 1)).all(), key=lambda r: r.seq)
            if len(rows) > cap:
                counted = select(func.count(func.distinct(query.subquery().c.id)))
                result.over_correlating.append(
                    OverCorrelation(hub, int(conn.execute(counted).scalar_one()))
                )
                continue
            for r in rows:
                other = stored_from_row(r)
                held_relation = relation if r.role == "holder" else r.role
                if keep.excluded(r.found) or (other.id, observable.value, r.found) in listed:
                    continue
                if len(result.correlations) >= limit:
                    result.truncated = True
                    return
                result.correlations.append(
                    Correlation(obj.id, held_relation, observable.value, r.found, hub, None, other)
                )


def _live(
    viewer: Viewer, own_id: str, observable: Observable, hub: str, holds: bool
) -> Select[Any]:
    """The latest visible objects related through ``hub`` to an object that holds it
    (``holds``: everything under it too) or lies under it (only its holders)."""

    def part(index: str, condition: Callable[[Any], Any], role: str) -> Select[Any]:
        # The plan, written out (accord.store.plans): the index rows through ``index``,
        # then their objects by primary key.
        rows = indexed(observables, index)
        return (
            select(
                *OBJECT_COLUMNS,
                rows.c.value.label("found"),
                literal(role, String()).label("role"),
            )
            .select_from(ordered(rows, objects, objects.c.seq == rows.c.seq))
            .where(condition(rows.c))
            .where(latest(objects))
            .where(visible_to(viewer, objects))
            .where(objects.c.id != own_id)
        )

    parts = [part("ix_observables_value", lambda ob: ob.value == hub, "holder")]
    if holds:
        if observable.kind in NETWORK_FAMILY and observable.lo and observable.hi:
            lo, hi, kinds = observable.lo, observable.hi, NETWORK_FAMILY[observable.kind]
            parts.append(
                part(
                    "ix_observables_range",
                    lambda ob: (
                        (ob.kind.in_(kinds))
                        & (ob.lo >= lo)
                        & (ob.lo <= hi)
                        & (ob.hi <= hi)
                        & (ob.value != hub)
                    ),
                    "contains",
                )
            )
        elif observable.kind == "domain" and observable.rdomain:
            low = observable.rdomain

            def below(ob: Any) -> Any:
                return (ob.rdomain >= low) & (ob.rdomain < low[:-1] + "/") & (ob.value != hub)

            parts.append(
                part(
                    "ix_observables_rdomain",
                    lambda ob: below(ob) & (ob.kind == "domain"),
                    "subdomain",
                )
            )
            parts.append(
                part("ix_observables_rdomain", lambda ob: below(ob) & (ob.kind != "domain"), "host")
            )
        elif observable.kind in ("ipv4", "ipv6"):
            parts.append(
                part(
                    "ix_observables_host",
                    lambda ob: (ob.host == hub) & ob.kind.in_(("url", "email")),
                    "host",
                )
            )
    query = union_all(*parts).subquery()
    return select(query)  # unordered: a LIMIT stops the scan early


# The organisation's allowlist, read on every look-up that finds correlations.
_ALLOWLIST = Prepared(
    lambda _dialect: select(
        allowlist_entries.c.kind,
        allowlist_entries.c.value,
        allowlist_entries.c.suffix,
        allowlist_entries.c.lo,
        allowlist_entries.c.hi,
    ).where(allowlist_entries.c.org_id == bindparam("org_id", type_=String()))
)


class _Filter:
    """Values that must not correlate for this viewer: the caller's ``exclude`` (the node's
    warninglists) and the viewer organisation's allowlist."""

    def __init__(self, conn: Connection, viewer: Viewer, exclude: Exclude | None) -> None:
        self.exclude = exclude
        self.exact: set[tuple[str, str]] = set()
        self.suffixes: set[str] = set()
        self.networks: list[tuple[str, str, str]] = []
        self.memo: dict[str, bool] = {}
        if viewer.org_id is not None:
            rows = _ALLOWLIST.rows(conn, {"org_id": viewer.org_id})
            for kind, value, suffix, lo, hi in rows:
                if suffix:
                    self.suffixes.add(value)
                elif kind in NETWORK_FAMILY and lo and hi:
                    self.networks.append((kind, lo, hi))
                else:
                    self.exact.add((kind, value))

    def excluded(self, value: str) -> bool:
        if value.startswith(FILE_HUB) or (self.exclude is None and not self._any_entries):
            return False
        found = self.memo.get(value)
        if found is None:
            found = (self.exclude is not None and self.exclude(value)) or (
                self._any_entries and self._allowlisted(value)
            )
            self.memo[value] = found
        return found

    @property
    def _any_entries(self) -> bool:
        return bool(self.exact or self.suffixes or self.networks)

    def _allowlisted(self, value: str) -> bool:
        observable = detect(value)
        if observable is None:
            return False
        checks = [observable]
        if observable.kind in ("url", "email") and observable.host:
            host = detect(observable.host)
            if host is not None:
                checks.append(host)
        for item in checks:
            if (item.kind, item.value) in self.exact:
                return True
            if item.kind == "domain" and any(name in self.suffixes for name in _names(item.value)):
                return True
            if item.lo and item.hi:
                for _kind, lo, hi in self.networks:
                    if len(lo) == len(item.lo) and lo <= item.lo and item.hi <= hi:
                        return True
        return False


def _names(domain: str) -> Iterable[str]:
    yield domain
    yield from parent_domains(domain)
