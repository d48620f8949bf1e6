"""Everything the portal's object page shows about one object, read for one viewer: the
object (the newest version the viewer may see, as ``GET /api/v1/objects/{id}`` answers), its
versions, its neighbours (`accord.intel.neighbours`), its sightings and their totals, its
correlations, an indicator's decayed score, and the names of the organisations it names.

Every read goes through the store's visibility rule; nothing is filtered here. What is
decided here is what may be *said* of what was read: which organisation shared the object
(`sharer_disclosed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accord.intel.neighbours import Neighbourhood, neighbourhood
from accord.intel.scoring import IndicatorScore, indicator_score
from accord.model.extension import ACCORD_IDENTITY_ID
from accord.model.holdings import holder_disclosed
from accord.model.patterns import PatternError, observables_from_pattern
from accord.model.visibility import Viewer
from accord.store.correlation.exclusion import Exclude
from accord.store.correlation.read import Correlations
from accord.store.correlation.results import CorrelationResult
from accord.store.node import Store
from accord.store.organisations import NotFound
from accord.store.records import StoredObject
from accord.store.sightings import SightingTotals, facts_of, sighting_totals

SIGHTINGS_LIMIT = 200  # sightings listed on a page (the totals count them all)
CORRELATIONS_LIMIT = 200


@dataclass(slots=True)
class ObjectView:
    obj: StoredObject
    body: dict[str, Any]
    versions: list[StoredObject]
    neighbours: Neighbourhood
    sightings: list[StoredObject] = field(default_factory=list)
    sightings_truncated: bool = False
    totals: SightingTotals | None = None
    correlations: CorrelationResult | None = None
    scores: list[tuple[str, IndicatorScore]] = field(default_factory=list)  # (kind, score)
    sharer: str | None = None  # the organisation that shared it, when it may be said
    shared_by_node: bool = False  # the node's own objects (its identity, TLP markings)
    organisations: dict[str, str] = field(default_factory=dict)  # org id named -> name

    def read(self) -> list[StoredObject]:
        """Every object version the page shows (for the read audit)."""
        shown = {o.seq: o for o in self.neighbours.read()}
        shown.update((o.seq, o) for o in self.sightings)
        if self.correlations is not None:
            shown.update((c.obj.seq, c.obj) for c in self.correlations.correlations)
        return list(shown.values())


def sharer_disclosed(obj: StoredObject, body: Mapping[str, Any], viewer: Viewer) -> bool:
    """May the page say which organisation shared ``obj``? Yes, unless the object was
    reported anonymously: an anonymous sighting, or an object that may be part of an anonymous
    report (`accord.model.holdings.holder_disclosed`). Its own organisation always knows."""
    facts = facts_of(body)
    if facts is not None and facts.anonymous and obj.owner_org != viewer.org_id:
        return False
    return holder_disclosed(obj.type, "created_by_ref" in body, obj.owner_org == viewer.org_id)


def indicator_scores(
    obj: StoredObject, body: Mapping[str, Any], now: datetime, totals: SightingTotals | None
) -> list[tuple[str, IndicatorScore]]:
    """An indicator's decayed score for each kind of observable its pattern names (the
    half-life differs by kind: `accord.intel.scoring`); one default-kind score when the
    pattern names none or is not a STIX pattern."""
    kinds: list[str] = []
    pattern = body.get("pattern")
    if isinstance(pattern, str) and body.get("pattern_type", "stix") == "stix":
        try:
            found = observables_from_pattern(pattern)
        except PatternError:
            found = None
        if found is not None:
            kinds = list(dict.fromkeys(observable.kind for _path, observable in found.observables))
    return [
        (kind, indicator_score(body, kind, now, totals, received=obj.date_added))
        for kind in kinds or [""]
    ]


def _organisation_names(store: Store, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for org_id in sorted(ids):
        if org_id == ACCORD_IDENTITY_ID:
            continue
        try:
            names[org_id] = store.directory.org(org_id).name
        except NotFound:
            continue
    return names


def read_object_view(
    store: Store,
    viewer: Viewer,
    object_id: str,
    now: datetime,
    exclude: Exclude | None = None,
) -> ObjectView | None:
    """The page of ``object_id`` for ``viewer``; None when the viewer may see no version of
    it (exactly as when there is no such object)."""
    obj = store.objects.get(viewer, object_id)
    if obj is None:
        return None
    body = obj.json()
    view = ObjectView(
        obj=obj,
        body=body,
        versions=store.objects.versions(viewer, object_id),
        neighbours=neighbourhood(store, viewer, obj),
    )
    found = store.objects.referencing(viewer, [obj.id], ("sighting_of",), SIGHTINGS_LIMIT + 1)
    view.sightings = [reference.obj for reference in found[:SIGHTINGS_LIMIT]]
    view.sightings_truncated = len(found) > SIGHTINGS_LIMIT
    with store.engine.connect() as conn:
        view.totals = sighting_totals(conn, viewer, [obj.id]).get(obj.id)
    view.correlations = Correlations(store.engine).of_object(
        viewer, obj.id, exclude, CORRELATIONS_LIMIT
    )
    if obj.type == "indicator":
        view.scores = indicator_scores(obj, body, now, view.totals)

    named: set[str] = set()
    if sharer_disclosed(obj, body, viewer):
        named.add(obj.owner_org)
    for holder in (body, *(s.json() for s in view.sightings)):
        creator = holder.get("created_by_ref")
        if isinstance(creator, str):
            named.add(creator)
        named.update(r for r in holder.get("where_sighted_refs") or () if isinstance(r, str))
    view.organisations = _organisation_names(store, named)
    if sharer_disclosed(obj, body, viewer):
        view.sharer = view.organisations.get(obj.owner_org)
        view.shared_by_node = obj.owner_org == ACCORD_IDENTITY_ID
    return view
