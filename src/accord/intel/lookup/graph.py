"""What lies one hop from a look-up's matched objects, as far as the viewer may see it:
relationships and the objects at their other ends, the reports that contain them, their
sightings and the objects they correlate with. Read once for all the values of a look-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from accord.model.observables import Observable
from accord.model.visibility import Viewer
from accord.store.correlation.exclusion import Exclude
from accord.store.correlation.hubs import over_hub_holders
from accord.store.correlation.read import correlated_with
from accord.store.correlation.results import Correlation
from accord.store.hints import GRAPH_ROLES
from accord.store.node import Store
from accord.store.records import CORRELATED, REFERENCED, SIGHTED, StoredObject, ValueMatch
from accord.store.sightings import SightingTotals, sighting_totals

CORRELATION_LIMIT = 20  # correlated objects listed per answer (the API lists them all)


@dataclass(slots=True)
class Graph:
    """What lies one hop from the matched objects, visible to the viewer."""

    edges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> (kind, other)
    objects: dict[str, StoredObject] = field(default_factory=dict)
    sightings: dict[str, list[StoredObject]] = field(default_factory=dict)
    totals: dict[str, SightingTotals] = field(default_factory=dict)
    correlations: dict[str, list[Correlation]] = field(default_factory=dict)


def read_graph(
    store: Store,
    viewer: Viewer,
    matched: dict[str, int],
    conn: Connection,
    wanted: int,
    exclude: Exclude | None,
) -> Graph:
    """``matched``: the id and sequence number of every object version that answered;
    ``wanted``: the `ValueMatch.context` bits of any of them (the queries to run);
    ``exclude``: the values that do not correlate."""
    graph = Graph()
    if not matched:
        return graph
    ids = sorted(matched)
    references = (
        store.objects.referencing(viewer, ids, GRAPH_ROLES, connection=conn)
        if wanted & REFERENCED
        else []
    )
    others: set[str] = set()
    for reference in references:
        if reference.role == "sighting_of":
            graph.sightings.setdefault(reference.ref, []).append(reference.obj)
        elif reference.role == "member":
            if reference.obj.type == "report":
                graph.edges.setdefault(reference.ref, []).append(("contains", reference.obj.id))
                graph.objects[reference.obj.id] = reference.obj
        else:
            obj = reference.obj.json()
            source, target = obj.get("source_ref"), obj.get("target_ref")
            kind = str(obj.get("relationship_type", "related-to"))
            other = target if reference.role == "source" else source
            if isinstance(other, str):
                graph.edges.setdefault(reference.ref, []).append((kind, other))
                others.add(other)
    if others:
        for stored in store.objects.get_many(viewer, sorted(others), conn):
            graph.objects[stored.id] = stored
    # Issue 6: sighting aggregates (anonymous ones included) and stored correlations.
    if wanted & SIGHTED:
        graph.totals = sighting_totals(conn, viewer, ids)
    if not wanted & CORRELATED:
        return graph
    # The matches were read through the rule by the search: correlated_with checks the
    # other ends only.
    sources = {seq: object_id for object_id, seq in matched.items()}
    limit = CORRELATION_LIMIT * len(ids)
    for found in correlated_with(conn, viewer, sources, limit, exclude):
        graph.correlations.setdefault(found.source, []).append(found)
    return graph


def add_over_hubs(
    graph: Graph,
    found: Sequence[list[ValueMatch]],
    conn: Connection,
    viewer: Viewer,
    exclude: Exclude | None,
) -> None:
    """Correlations through looked-up values that correlate too widely to be stored, as
    far as ``viewer`` may see them (accord.store.correlation.hubs.over_hub_holders)."""
    held = {
        (m.obj.id, m.kind, m.value) for matches in found for m in matches if m.relation == "exact"
    }
    if not held:
        return
    items = [(object_id, Observable(kind, value)) for object_id, kind, value in sorted(held)]
    for correlation in over_hub_holders(conn, viewer, items, exclude):
        listed = graph.correlations.setdefault(correlation.source, [])
        if all(c.obj.id != correlation.obj.id for c in listed):
            listed.append(correlation)
