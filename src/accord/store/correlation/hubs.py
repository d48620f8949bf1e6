"""Over-correlating hubs, read through the visibility rule.

A hub's rows are dropped when it joins more than ``cap`` objects of anyone, but the cap
applies to what the viewer may see (issue 14): the reader counts, in SQL and through the rule,
the objects *it* may see, and lists them when they are no more than ``cap``, so that whether a
hub is "over" reveals nothing about objects the viewer may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, String, func, literal, select, union_all

from accord.model.observable_types import Observable
from accord.model.visibility import Viewer
from accord.store.candidates import candidates, load_prefixes
from accord.store.correlation.exclusion import Exclude, Exclusions
from accord.store.correlation.policy import policy_for
from accord.store.correlation.relations import NETWORK_FAMILY, relation_of
from accord.store.correlation.results import Correlation, CorrelationResult, OverCorrelation
from accord.store.dialects import backend_for
from accord.store.objects import OBJECT_COLUMNS, stored_from_row
from accord.store.plans import indexed, ordered
from accord.store.prepared import InList, Prepared, list_param
from accord.store.schema import correlation_hubs, objects, observables
from accord.store.visibility import latest, visible_to

# On every look-up that finds something: prepared, so that it costs one index probe.
_OVER_HUBS = Prepared(
    select(correlation_hubs.c.hub)
    .where(InList(correlation_hubs.c.hub, list_param("values")))
    .where(correlation_hubs.c.over)
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
    params = {"values": backend_for(conn).encode_list(values)}
    over = {hub for (hub,) in _OVER_HUBS.rows(conn, params)}
    if not over:
        return []
    cap = policy_for(conn.engine).cap
    keep = Exclusions(conn, viewer, exclude)
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


def add_over_hubs(
    conn: Connection,
    viewer: Viewer,
    result: CorrelationResult,
    exclude: Exclude | None,
    limit: int,
) -> None:
    """Over-correlating hubs of the object: listed when the viewer may see no more than
    the cap of their objects, else counted; both through the rule."""
    cap = policy_for(conn.engine).cap
    obj = result.obj
    own = [
        Observable(r.kind, r.value, r.host, r.lo, r.hi, r.rdomain)
        for r in conn.execute(select(observables).where(observables.c.seq == obj.seq))
    ]
    if not own:
        return
    prefixes = load_prefixes(conn)
    hubs: dict[str, tuple[Observable, str]] = {}  # hub -> (own observable, relation)
    for observable in own:
        for target, found in candidates(observable, prefixes).values.items():
            hubs.setdefault(target, (observable, relation_of(found, observable.kind)))
    over = [
        hub
        for (hub,) in conn.execute(
            select(correlation_hubs.c.hub)
            .where(correlation_hubs.c.hub.in_(sorted(hubs)))
            .where(correlation_hubs.c.over)
        )
    ]
    keep = Exclusions(conn, viewer, exclude)
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
