"""Collections and their objects: TAXII 2.1 sections 5.1 to 5.8.

Listings are envelopes (section 3.7) or manifests (section 5.3.1) with ``more`` and an
opaque ``next`` (section 3.4), built by joining the stored JSON of each object rather than
parsing and re-encoding it. Every read is the store's, filtered by the visibility rule for
the caller; a collection or object the caller may not see answers 404, like an unknown one.

The endpoints are plain functions, which Starlette runs in its thread pool (the store
blocks); only ``add_objects`` is a coroutine, to await the body between its checks and the
write, each of which it sends to the thread pool.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.export.for_peer import dressed_for_peer
from accord.ingest.from_peer import receive
from accord.ingest.stix import Ingester, IngestOptions, IngestReport
from accord.model.jsondoc import JsonDocumentError
from accord.model.jsondoc import loads as json_loads
from accord.model.roles import Role
from accord.store.audit import Event
from accord.store.cursors import listing
from accord.store.objects import now_key
from accord.store.organisations import User
from accord.store.taxii import Entry, Match, TaxiiStore
from accord.taxii import paging
from accord.taxii.collections import DEFAULT_ID, WRITERS, Collection, find, readable
from accord.taxii.context import (
    Caller,
    TaxiiNode,
    audit_reads,
    begin,
    date_added_headers,
    taxii_response,
)
from accord.taxii.discovery import check_root
from accord.taxii.errors import TaxiiError, not_found
from accord.taxii.filters import ALL_FIELDS, match_parts, parse_limit, parse_match
from accord.taxii.media import TAXII_21, taxii_content


def _collection(request: Request) -> tuple[TaxiiNode, Caller, Collection]:
    node, caller = begin(request)
    check_root(request)
    collection_id = request.path_params["collection_id"]
    found = find(node.store, caller.viewer, collection_id)
    if found is None:
        raise not_found(f"collection {collection_id!r}")
    return node, caller, found


# -- 5.1 and 5.2: collections --------------------------------------------------------------


def list_collections(request: Request) -> Response:
    node, caller = begin(request)
    check_root(request)
    found = [c.resource(caller.user, caller.viewer) for c in readable(node.store, caller.viewer)]
    return taxii_response(orjson.dumps({"collections": found}))


def get_collection(request: Request) -> Response:
    _, caller, collection = _collection(request)
    return taxii_response(orjson.dumps(collection.resource(caller.user, caller.viewer)))


# -- paging ---------------------------------------------------------------------------------


def _page(
    request: Request,
    node: TaxiiNode,
    caller: Caller,
    collection: Collection,
    endpoint: str,
    match: Match,
    raw: bool,
) -> tuple[list[Entry], bool, str | None]:
    """One page of versions, whether there are more, and the token for the next page."""
    params = request.query_params
    limit = parse_limit(params)
    filters = listing(
        orjson.dumps([endpoint, collection.id, request.path_params.get("object_id")]).decode(),
        orjson.dumps(match_parts(match)).decode(),
    )
    cursors, viewer = node.store.cursors, caller.viewer
    listed = endpoint in ("objects", "manifest")
    token = params.get("next")
    after = paging.decode(cursors, viewer, token, filters) if token else 0

    def read(taxii: TaxiiStore) -> list[Entry]:
        return taxii.page(
            caller.viewer, collection.scope, match, after=after, limit=limit + 1, raw=raw
        )

    # Listings (objects, manifest) from a read replica where the node has them; an object
    # asked for by its id, and its versions, from the primary: a client that has just added
    # it (its status says so) finds it (docs/replicas.md).
    found = (
        node.store.from_replica(lambda reads: read(reads.taxii))
        if listed
        else read(node.store.taxii)
    )
    page, more = found[:limit], len(found) > limit
    next_token = paging.encode(cursors, viewer, page[-1].seq, filters) if more else None
    return page, more, next_token


def _envelope(
    node: TaxiiNode, caller: Caller, page: Sequence[Entry], more: bool, next_token: str | None
) -> bytes:
    """The envelope (section 3.7); the objects' JSON as stored, joined without re-encoding,
    except for a peer node, which gets each with its holder and audience
    (`accord.export.for_peer`)."""
    head = b'{"more":' + (b"true" if more else b"false")
    if next_token is not None:
        head += b',"next":"' + next_token.encode() + b'"'
    if not page:
        return head + b"}"
    if caller.viewer.crossing is not None:
        dressed = dressed_for_peer(node.store, page)
        return head + b',"objects":' + orjson.dumps(dressed) + b"}"
    objects = ",".join(entry.raw or "{}" for entry in page)
    return head + b',"objects":[' + objects.encode() + b"]}"


# -- 5.3: manifest ----------------------------------------------------------------------------


def get_manifest(request: Request) -> Response:
    node, caller, collection = _collection(request)
    match = parse_match(request.query_params, ALL_FIELDS)
    page, more, next_token = _page(request, node, caller, collection, "manifest", match, False)
    body: dict[str, Any] = {"more": more}
    if next_token is not None:
        body["next"] = next_token
    if page:
        body["objects"] = [
            {
                "id": entry.id,
                "date_added": entry.date_added,
                "version": entry.version,
                "media_type": f"application/stix+json;version={entry.spec_version}",
            }
            for entry in page
        ]
    return taxii_response(orjson.dumps(body), headers=date_added_headers(page))


# -- 5.4: objects -----------------------------------------------------------------------------


def get_objects(request: Request) -> Response:
    node, caller, collection = _collection(request)
    match = parse_match(request.query_params, ALL_FIELDS)
    page, more, next_token = _page(request, node, caller, collection, "objects", match, True)
    audit_reads(node, caller, page, "TAXII get objects")
    return taxii_response(
        _envelope(node, caller, page, more, next_token), headers=date_added_headers(page)
    )


# -- 5.6: an object ---------------------------------------------------------------------------


def get_object(request: Request) -> Response:
    node, caller, collection = _collection(request)
    object_id = request.path_params["object_id"]
    match = parse_match(request.query_params, ("version", "spec_version"))
    match = Match(match.added_after, (object_id,), (), match.versions, match.spec_versions)
    page, more, next_token = _page(request, node, caller, collection, "object", match, True)
    if not page and "next" not in request.query_params:
        raise not_found(f"object {object_id!r}")
    audit_reads(node, caller, page, "TAXII get an object")
    return taxii_response(
        _envelope(node, caller, page, more, next_token), headers=date_added_headers(page)
    )


# -- 5.8: versions of an object -----------------------------------------------------------------


def get_versions(request: Request) -> Response:
    node, caller, collection = _collection(request)
    object_id = request.path_params["object_id"]
    match = parse_match(request.query_params, ("spec_version",))
    match = Match(match.added_after, (object_id,), (), ("all",), match.spec_versions)
    page, more, next_token = _page(request, node, caller, collection, "versions", match, False)
    if not page and "next" not in request.query_params:
        raise not_found(f"object {object_id!r}")
    body: dict[str, Any] = {"more": more}
    if next_token is not None:
        body["next"] = next_token
    if page:
        body["versions"] = [entry.version for entry in page]
    return taxii_response(orjson.dumps(body), headers=date_added_headers(page))


# -- 5.7: delete an object --------------------------------------------------------------------


def delete_object(request: Request) -> Response:
    node, caller, collection = _collection(request)
    object_id = request.path_params["object_id"]
    match = parse_match(request.query_params, ("version", "spec_version"), added_after=False)
    user = caller.user
    if user is None or user.role not in WRITERS or caller.viewer.org_id is None:
        raise TaxiiError(403, "only admins, org-admins and analysts may delete objects")
    outcome, _count = node.store.taxii.delete(
        caller.viewer, caller.viewer.org_id, user.id, object_id, collection.scope, match
    )
    if outcome == "missing":
        raise not_found(f"object {object_id!r}")
    if outcome == "forbidden":
        raise TaxiiError(403, "only the organisation that stored an object may delete it")
    return taxii_response(b"", 200)


# -- 5.5: add objects -------------------------------------------------------------------------


async def add_objects(request: Request) -> Response:
    node, caller, collection = await run_in_threadpool(_collection, request)
    user = caller.user
    from_peer = user is not None and user.role is Role.PEER and collection.id == DEFAULT_ID
    if user is None or not (from_peer or collection.can_write(user, caller.viewer)):
        raise TaxiiError(403, "you may not add objects to this collection")
    if not taxii_content(request.headers.get("content-type")):
        raise TaxiiError(415, f"send the objects as an envelope of type {TAXII_21}")
    body = await request.body()
    try:
        # As the REST API reads a bundle: integers beyond 64 bits stay integers (and are refused
        # per object), and the depth and duplicate-key limits apply.
        envelope = json_loads(body)
    except JsonDocumentError as exc:
        raise TaxiiError(400, f"the body is not accepted: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects", []), list):
        raise TaxiiError(400, "expected an envelope: a JSON object with a list 'objects'")
    objects = envelope.get("objects", [])
    status = await run_in_threadpool(_add, node, user, collection, objects)
    return taxii_response(orjson.dumps(status), 202)


def _add(node: TaxiiNode, user: User, collection: Collection, objects: list[Any]) -> dict[str, Any]:
    requested = now_key()
    source = f"TAXII POST to {collection.id}"
    if user.role is Role.PEER:
        # A peer node pushing (docs/federation.md): checked against what it may send.
        peer = node.store.peers.by_operator(user.org_id)
        if peer is None:
            raise TaxiiError(403, "this peer is not registered on this node (accord peer add)")
        report = receive(node.store, peer, objects, f"{source} by peer {peer.name}", user)
    else:
        options = IngestOptions(
            tlp=collection.default_tlp, recipients=collection.recipients, partial=True
        )
        ingester = Ingester(node.store, user, node.settings.default_tlp)
        report = ingester.ingest_objects(objects, "2.1", source, options)
    status = status_resource(report, objects, requested)
    node.store.taxii.save_status(
        user.org_id,
        user.id,
        status,
        _write_event(user, collection, status["success_count"], status["failure_count"]),
    )
    return status


def _write_event(user: User, collection: Collection, stored: int, failed: int) -> Event:
    return Event(
        action="write",
        user_id=user.id,
        org_id=user.org_id,
        target=None,
        detail={
            "via": "TAXII add objects",
            "collection": collection.id,
            "added": stored,
            "failed": failed,
        },
    )


def _version(obj: Any, fallback: str) -> str:
    if isinstance(obj, dict):
        for name in ("modified", "created"):
            if isinstance(obj.get(name), str):
                return str(obj[name])
    return fallback


def status_resource(report: IngestReport, objects: list[Any], requested: str) -> dict[str, Any]:
    """The status resource (TAXII 2.1 section 4.3.1) of a POST, processed at once: a stored
    or already-stored object is a success; a rejected one a failure, with its reasons."""
    successes: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    for item in report.objects:
        obj = objects[item.index] if item.index < len(objects) else None
        detail = {"id": item.id or "", "version": _version(obj, requested)}
        if item.status in ("stored", "duplicate"):
            message = "stored" if item.status == "stored" else "already stored"
            successes.append(detail | {"message": message})
        else:
            reasons = "; ".join(str(problem) for problem in item.problems) or item.status
            failures.append(detail | {"message": reasons})
    return {
        "id": str(uuid.uuid4()),
        "status": "complete",
        "request_timestamp": requested,
        "total_count": len(objects),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }
