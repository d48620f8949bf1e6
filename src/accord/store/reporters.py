"""Which organisations a viewer may know by name to have reported on some objects: the
look-up card names them beside its count of reporting organisations.

An organisation is named only where something the viewer may read names it already:

- the creator of an object the viewer may see, from the creator's own holding of it (the
  object's ``created_by_ref`` is its owner): the object says who made it;
- an organisation in the ``where_sighted_refs`` of a sighting of the object that the viewer
  may see and that is not anonymous.

An anonymous sighting (`accord.ingest.sightings`) names nobody: it has no ``created_by_ref``
and no ``where_sighted_refs``, and neither do the observed data and the observable stored
with it, so no rule here can name its reporter, whose organisation is still the owner of
those rows. Only organisations of this node's directory are named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

import orjson
from sqlalchemy import Connection, Table, select

from accord.model.visibility import Viewer
from accord.store.dialects import backend_for
from accord.store.plans import indexed, ordered
from accord.store.prepared import InList, Prepared, list_param
from accord.store.schema import objects, organisations, sighting_facts
from accord.store.visibility import cached_viewer_params, latest, visible_rule

SIGHTINGS_READ: Final = 1000  # sightings read for the names they give, per look-up


@dataclass(frozen=True, slots=True)
class Reporter:
    id: str  # the organisation's identity id
    name: str


# On every look-up that finds something (the card): prepared, each one indexed query.
_CREATORS = Prepared(
    select(objects.c.owner_org)
    .where(InList(objects.c.id, list_param("ids")))
    .where(latest(objects))
    .where(objects.c.created_by_ref == objects.c.owner_org)
    .where(visible_rule(objects))
    .distinct()
)
_facts = indexed(sighting_facts, "ix_sighting_facts_of")
_sighting = cast(Table, objects.alias("s"))
_SIGHTINGS = Prepared(
    select(_sighting.c.raw)
    .select_from(ordered(_facts, _sighting, _sighting.c.seq == _facts.c.seq))
    .where(InList(_facts.c.sighting_of, list_param("ids")))
    .where(_facts.c.anonymous == False)  # noqa: E712 (SQL)
    .where(latest(_sighting))
    .where(visible_rule(_sighting))
    .limit(SIGHTINGS_READ)
)
_NAMES = Prepared(
    select(organisations.c.id, organisations.c.name).where(
        InList(organisations.c.id, list_param("orgs"))
    )
)


def named_reporters(conn: Connection, viewer: Viewer, ids: Sequence[str]) -> list[Reporter]:
    """The organisations ``viewer`` may know reported on the objects ``ids`` (see the
    module's rule), by name."""
    if not ids:
        return []
    backend = backend_for(conn)
    params = {
        **cached_viewer_params(backend, viewer),
        "ids": backend.encode_list(sorted(set(ids))),
    }
    found = {str(org) for (org,) in _CREATORS.rows(conn, params)}
    for (raw,) in _SIGHTINGS.rows(conn, params):
        refs = orjson.loads(raw).get("where_sighted_refs")
        if isinstance(refs, list):
            found.update(ref for ref in refs if isinstance(ref, str))
    if not found:
        return []
    named = _NAMES.rows(conn, {"orgs": backend.encode_list(sorted(found))})
    return sorted(
        (Reporter(str(org), str(name)) for org, name in named),
        key=lambda reporter: reporter.name.casefold(),
    )
