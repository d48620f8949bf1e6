"""The objects one hop from an object, as far as a viewer may see them: the relationships
from and to it and the objects at their other ends, the objects it names in its ``*_ref`` and
``*_refs`` properties, and the objects that name it (reports that contain it, sightings of it).

Every object here was read through the visibility rule (`ObjectStore.referencing` and
`ObjectStore.get_many`, latest versions only, as the look-up reads them). An edge is kept only
when both its ends are visible: a visible relationship whose other end the viewer may not see
is dropped whole, so that neither the hidden end's id nor the relationship is shown. The
object's own JSON names what it names; the page shows only the named objects the viewer may
see (the raw JSON, served as the API serves it, is the object as stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.records import StoredObject

# The roles in which other objects name an object (accord.model.references): relationships
# from and to it, sightings of it (and of where or what was sighted), reports, groupings,
# notes and opinions that contain it.
NAMED_BY_ROLES = ("source", "target", "sighting_of", "where_sighted", "observed_data", "member")
# The property behind each role, as the edge is labelled.
ROLE_PROPERTY = {
    "sighting_of": "sighting_of_ref",
    "where_sighted": "where_sighted_refs",
    "observed_data": "observed_data_refs",
    "member": "object_refs",
}
# TLP markings are the page's banner, not neighbours.
NOT_FOLLOWED = frozenset({"object_marking_refs"})
NEIGHBOUR_LIMIT = 500  # objects naming it, and objects it names, each read at most


@dataclass(frozen=True, slots=True)
class Edge:
    """``source`` relates to ``target``: a relationship's type (``via``: the relationship's
    id), or the property of ``source`` that names ``target`` (``via``: None)."""

    source: str
    target: str
    kind: str
    via: str | None = None


@dataclass(slots=True)
class Neighbourhood:
    center: StoredObject
    objects: dict[str, StoredObject] = field(default_factory=dict)  # visible neighbours by id
    relationships: dict[str, StoredObject] = field(default_factory=dict)  # behind the edges
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False  # more than NEIGHBOUR_LIMIT one way: the first ones are shown

    def named(self) -> dict[str, list[StoredObject]]:
        """The visible objects the center names, by the property that names them."""
        found: dict[str, list[StoredObject]] = {}
        for edge in self.edges:
            if edge.source == self.center.id and edge.via is None and edge.target in self.objects:
                found.setdefault(edge.kind, []).append(self.objects[edge.target])
        return found

    def read(self) -> list[StoredObject]:
        """Every object this neighbourhood shows (for the read audit)."""
        return [self.center, *self.objects.values(), *self.relationships.values()]


def named_refs(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(property, id)`` for every object the top-level ``*_ref`` and ``*_refs`` properties
    of ``body`` name, in order, without repeats (markings left out)."""
    found: dict[tuple[str, str], None] = {}
    for name, value in body.items():
        if name in NOT_FOLLOWED:
            continue
        if name.endswith("_ref") and isinstance(value, str):
            found[(name, value)] = None
        elif name.endswith("_refs") and isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    found[(name, item)] = None
    return list(found)


def neighbourhood(
    store: Store, viewer: Viewer, center: StoredObject, limit: int = NEIGHBOUR_LIMIT
) -> Neighbourhood:
    """The visible objects one hop from ``center`` (which the viewer may see: the caller
    read it through the rule)."""
    found = Neighbourhood(center)
    body = center.json()
    outgoing = [(name, ref) for name, ref in named_refs(body) if ref != center.id]
    if len(outgoing) > limit:
        outgoing, found.truncated = outgoing[:limit], True
    naming = store.objects.referencing(viewer, [center.id], NAMED_BY_ROLES, limit + 1)
    if len(naming) > limit:
        naming, found.truncated = naming[:limit], True

    # The other ends of the relationships that name it, and what it names: one read.
    other_ends: dict[str, tuple[str, StoredObject]] = {}  # relationship id -> (other end, rel)
    for reference in naming:
        if reference.role not in ("source", "target"):
            continue
        ends = reference.obj.json()
        other = ends.get("target_ref") if reference.role == "source" else ends.get("source_ref")
        if isinstance(other, str):
            other_ends[reference.obj.id] = (other, reference.obj)
    wanted = {ref for _name, ref in outgoing} | {other for other, _rel in other_ends.values()}
    wanted.discard(center.id)
    visible = {obj.id: obj for obj in store.objects.get_many(viewer, sorted(wanted))}
    visible[center.id] = center

    for name, ref in outgoing:
        if ref in visible:
            found.objects[ref] = visible[ref]
            found.edges.append(Edge(center.id, ref, name))
    for reference in naming:
        obj = reference.obj
        if reference.role in ("source", "target"):
            other, rel = other_ends.get(obj.id, ("", obj))
            if other not in visible:
                continue  # its other end is hidden: neither the end nor the relationship
            rel_body = rel.json()
            found.relationships[rel.id] = rel
            found.objects.setdefault(other, visible[other])
            found.edges.append(
                Edge(
                    str(rel_body.get("source_ref")),
                    str(rel_body.get("target_ref")),
                    str(rel_body.get("relationship_type") or "related-to"),
                    rel.id,
                )
            )
        else:
            found.objects.setdefault(obj.id, obj)
            found.edges.append(Edge(obj.id, center.id, ROLE_PROPERTY[reference.role]))
    found.objects.pop(center.id, None)
    found.edges = list(dict.fromkeys(found.edges))
    return found
