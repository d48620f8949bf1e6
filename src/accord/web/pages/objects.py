"""The object page: any STIX object the reader may see, at ``/objects/{id}``.

- ``/objects/{id}``: the TLP banner, the fields of its type, its versions, sightings,
  correlations and neighbours (a list, and a graph drawn by ``portal/object_graph.js``);
- ``/objects/{id}/diff?from=...&to=...``: two of its versions compared, property by property;
- ``/objects/{id}/graph.json``: its visible neighbours as graph nodes and edges (the graph
  asks for a node's when it is clicked, to expand it);
- ``/objects/{id}.json`` (shown) and ``/objects/{id}/raw`` (downloaded): the version the page
  shows, as stored, exactly as ``GET /api/v1/objects/{id}`` answers it.

Everything is read through `accord.intel.object_view` and `accord.intel.neighbours`, for
the reader's viewer; reads are audited as the API's (`accord.intel.read_audit`). An object
the reader may not see answers exactly as one that does not exist: the same 404 page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.intel.neighbours import Neighbourhood, neighbourhood
from accord.intel.object_view import ObjectView, read_object_view
from accord.intel.read_audit import audit_reads
from accord.model.timestamps import timestamp_key
from accord.store.records import StoredObject
from accord.store.sightings import facts_of
from accord.web.object_display import (
    COMMON,
    LAID_OUT,
    attack_reference,
    display_name,
    external_references,
    other_properties,
    summaries,
    summary,
    value_text,
)
from accord.web.pages.common import page
from accord.web.pattern_tokens import pattern_pieces
from accord.web.portal import Portal, portal_of
from accord.web.version_diff import diff_versions
from accord.web.visitors import PageError, Visitor, member

router = APIRouter(include_in_schema=False)

# Cyber-observables whose value the look-up takes (a link to look it up is offered).
LOOKED_UP_SCOS = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"})
MAX_ID = 300  # characters: a STIX id is a type (at most 250) and a UUID
JSON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def _missing() -> PageError:
    """The one answer for an object that is not there and for one the reader may not see."""
    return PageError(404, "not-found")


def _checked(object_id: str) -> str:
    if len(object_id) > MAX_ID or "--" not in object_id:
        raise _missing()
    return object_id


def _audit(portal: Portal, visitor: Visitor, read: list[StoredObject], via: str) -> None:
    audit_reads(portal.store, visitor.viewer, visitor.user_id, read, via)


# -- the page ----------------------------------------------------------------------------


def graph_elements(found: Neighbourhood) -> dict[str, Any]:
    """The nodes and edges of a neighbourhood, as cytoscape.js takes them (``data`` of each
    element); only visible objects are in it (`accord.intel.neighbours`)."""
    shown = summaries([found.center, *found.objects.values()])
    nodes = [
        {"data": {**item.as_json(), "center": item.id == found.center.id}}
        for item in shown.values()
    ]
    # An edge drawn from a relationship object carries its id: one relationship, one edge.
    edges = [
        {
            "data": {
                "id": edge.via or f"{edge.source} {edge.kind} {edge.target}",
                "source": edge.source,
                "target": edge.target,
                "label": edge.kind,
            }
        }
        for edge in found.edges
        if edge.source in shown and edge.target in shown
    ]
    return {
        "center": found.center.id,
        "nodes": nodes,
        "edges": edges,
        "truncated": found.truncated,
    }


def _neighbour_rows(found: Neighbourhood) -> list[dict[str, Any]]:
    """The neighbours as the list without JavaScript shows them: how each relates to the
    object (an outgoing or incoming relationship or reference), the object, and the
    relationship object behind the line."""
    shown = summaries(found.objects.values())
    rows = []
    for edge in found.edges:
        outgoing = edge.source == found.center.id
        other = shown.get(edge.target if outgoing else edge.source)
        if other is None:
            continue
        via = found.relationships.get(edge.via) if edge.via else None
        rows.append(
            {
                "outgoing": outgoing,
                "kind": edge.kind,
                "relationship": edge.via is not None,
                "other": other,
                "via": summary(via) if via is not None else None,
            }
        )
    return rows


def _sighting_rows(view: ObjectView) -> list[dict[str, Any]]:
    rows = []
    for sighting in view.sightings:
        body = sighting.json()
        facts = facts_of(body)
        where = [
            view.organisations[ref]
            for ref in body.get("where_sighted_refs") or ()
            if isinstance(ref, str) and ref in view.organisations
        ]
        rows.append(
            {
                "summary": summary(sighting),
                "kind": facts.kind if facts else "seen",
                "anonymous": bool(facts and facts.anonymous),
                "count": facts.count if facts else body.get("count"),
                "first_seen": body.get("first_seen"),
                "last_seen": body.get("last_seen"),
                "where": where,
            }
        )
    return rows


def _correlation_context(view: ObjectView) -> dict[str, Any]:
    found = view.correlations
    if found is None:
        return {"correlations": [], "over_correlating": [], "correlations_truncated": False}
    return {
        "correlations": [
            {
                "item": summary(c.obj),
                "relation": c.relation,
                "value": c.value,
                "other_value": c.other_value,
                "similarity": c.similarity,
            }
            for c in found.correlations
        ],
        "over_correlating": found.over_correlating,
        "correlations_truncated": found.truncated,
    }


def _validity(body: dict[str, Any], now: datetime) -> str | None:
    """An indicator's validity window against now: "future", "valid" or "expired"."""
    try:
        now_key = timestamp_key(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        start = body.get("valid_from")
        end = body.get("valid_until")
        if isinstance(start, str) and timestamp_key(start) > now_key:
            return "future"
        if isinstance(end, str) and timestamp_key(end) <= now_key:
            return "expired"
    except ValueError:
        return None
    return "valid"


def _page_context(view: ObjectView, now: datetime) -> dict[str, Any]:
    body = view.body
    kind = view.obj.type
    named = {
        name: [summary(obj) for obj in objects] for name, objects in view.neighbours.named().items()
    }
    laid_out = COMMON | LAID_OUT.get(kind, frozenset())
    creator = body.get("created_by_ref")
    creator_obj = named.get("created_by_ref", [None])[0]
    pattern = body.get("pattern")
    return {
        "obj": view.obj,
        "body": body,
        "kind": kind,
        "name": display_name(body),
        "tlp_label": view.obj.tlp.label,
        "named": named,
        "other_refs": [(name, items) for name, items in named.items() if name not in laid_out],
        "creator": creator_obj,
        "creator_org": view.organisations.get(creator) if isinstance(creator, str) else None,
        "sharer": view.sharer,
        "shared_by_node": view.shared_by_node,
        "external_references": external_references(body),
        "attack": attack_reference(body),
        "other_properties": [(n, value_text(v)) for n, v in other_properties(body)],
        "pattern_pieces": pattern_pieces(pattern) if isinstance(pattern, str) else (),
        "stix_pattern": body.get("pattern_type", "stix") == "stix",
        "validity": _validity(body, now) if kind == "indicator" else None,
        "scores": view.scores,
        "sighting": facts_of(body) if kind == "sighting" else None,
        "versions": list(reversed(view.versions)),
        "sightings": _sighting_rows(view),
        "sightings_truncated": view.sightings_truncated,
        "totals": view.totals,
        **_correlation_context(view),
        "neighbours": _neighbour_rows(view.neighbours),
        "neighbours_truncated": view.neighbours.truncated,
        "where_sighted": [
            view.organisations[ref]
            for ref in body.get("where_sighted_refs") or ()
            if isinstance(ref, str) and ref in view.organisations
        ],
        "lookup_value": body.get("value") if kind in LOOKED_UP_SCOS else None,
    }


def _read_page(portal: Portal, visitor: Visitor, object_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    view = read_object_view(portal.store, visitor.viewer, object_id, now, portal.lookups.exclude)
    if view is None:
        raise _missing()
    _audit(portal, visitor, view.read(), "portal GET /objects/{id}")
    return _page_context(view, now)


# -- the routes (the ``.json`` one first: ``{object_id}`` would take "x.json" too) ---------


@router.get("/objects/{object_id}.json")
async def raw_json(
    request: Request, object_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    return await _raw(request, visitor, object_id, download=False)


@router.get("/objects/{object_id}/raw")
async def raw_download(
    request: Request, object_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    return await _raw(request, visitor, object_id, download=True)


def _read_raw(portal: Portal, visitor: Visitor, object_id: str) -> StoredObject:
    found = portal.store.objects.get(visitor.viewer, object_id)
    if found is None:
        raise _missing()
    _audit(portal, visitor, [found], "portal GET /objects/{id}/raw")
    return found


async def _raw(request: Request, visitor: Visitor, object_id: str, download: bool) -> Response:
    found = await run_in_threadpool(_read_raw, portal_of(request), visitor, _checked(object_id))
    headers = dict(JSON_HEADERS)
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{found.id}.json"'
    return Response(found.raw.encode(), media_type="application/json", headers=headers)


@router.get("/objects/{object_id}/graph.json")
async def graph_json(
    request: Request, object_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    elements = await run_in_threadpool(
        _read_graph, portal_of(request), visitor, _checked(object_id)
    )
    return Response(orjson.dumps(elements), media_type="application/json", headers=JSON_HEADERS)


def _read_graph(portal: Portal, visitor: Visitor, object_id: str) -> dict[str, Any]:
    center = portal.store.objects.get(visitor.viewer, object_id)
    if center is None:
        raise _missing()
    found = neighbourhood(portal.store, visitor.viewer, center)
    _audit(portal, visitor, found.read(), "portal GET /objects/{id}/graph.json")
    return graph_elements(found)


@router.get("/objects/{object_id}/diff")
async def diff(
    request: Request, object_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    asked = (request.query_params.get("from"), request.query_params.get("to"))
    context = await run_in_threadpool(
        _read_diff, portal_of(request), visitor, _checked(object_id), *asked
    )
    return page(request, visitor, "object_diff.html", context)


def _version(versions: list[StoredObject], modified: str | None) -> StoredObject | None:
    try:
        key = timestamp_key(modified) if modified else None
    except ValueError:
        return None
    return next((v for v in versions if v.modified == key), None)


def _read_diff(
    portal: Portal, visitor: Visitor, object_id: str, older: str | None, newer: str | None
) -> dict[str, Any]:
    versions = portal.store.objects.versions(visitor.viewer, object_id)
    if not versions:
        raise _missing()
    # Unasked, the last two versions; a version asked for that the reader may not see (or
    # that does not exist) answers as a missing object.
    old = _version(versions, older) if older else versions[max(0, len(versions) - 2)]
    new = _version(versions, newer) if newer else versions[-1]
    if old is None or new is None:
        raise _missing()
    _audit(portal, visitor, [old, new], "portal GET /objects/{id}/diff")
    latest = versions[-1]
    return {
        "obj": latest,
        "name": display_name(latest.json()),
        "tlp_label": latest.tlp.label,
        "versions": list(reversed(versions)),
        "old": old,
        "new": new,
        "diff": diff_versions(old.json(), new.json()),
    }


@router.get("/objects/{object_id}")
async def object_page(
    request: Request, object_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    context = await run_in_threadpool(_read_page, portal_of(request), visitor, _checked(object_id))
    return page(request, visitor, "object.html", context)
