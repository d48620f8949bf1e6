"""Objects: POST /bundles (ingest), GET /objects (browse and search), /objects/{id},
/objects/{id}/versions."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.schemas import IngestResult, ObjectPage, ProblemDoc
from accord.ingest.stix import Ingester, IngestOptions, IngestReport, recipients_from_names
from accord.intel.search import BadFilter, BrowseFilters, browse
from accord.model.errors import Problem as ObjectProblem
from accord.model.roles import Role
from accord.model.search_text import MAX_SEARCH_CHARS
from accord.model.tlp import Tlp
from accord.store.cursors import BadCursor
from accord.store.organisations import NotFound
from accord.store.records import StoredObject

router = APIRouter(tags=["objects"], route_class=JsonRoute)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDoc, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 413, 422, 429)
}
WRITERS = (Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST)
BUNDLE_SCHEMA = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["bundle"]},
        "id": {"type": "string"},
        "objects": {"type": "array", "items": {"type": "object"}},
    },
}
TlpParam = Annotated[
    Literal["clear", "green", "amber", "amber+strict", "red"] | None,
    Query(description="TLP 2.0 level"),
]


def _pointer(index: int, problem: ObjectProblem) -> str:
    path = problem.property or ""
    parts = [part for part in re.split(r"[.\[\]]+", path) if part]
    return "/" + "/".join(["objects", str(index), *parts])


def ingest_result(report: IngestReport) -> dict[str, Any]:
    return {
        "stored": report.count("stored"),
        "duplicates": report.count("duplicate"),
        "rejected": report.count("rejected"),
        "not_stored": report.count("not stored"),
        "spec_version": report.spec_version,
        "objects": [
            {
                "index": o.index,
                "id": o.id,
                "type": o.type,
                "status": o.status,
                "problems": [
                    {"pointer": _pointer(o.index, p), "property": p.property, "reason": p.reason}
                    for p in o.problems
                ],
                "warnings": [
                    {"pointer": _pointer(o.index, p), "property": p.property, "reason": p.reason}
                    for p in o.warnings
                ],
            }
            for o in report.objects
        ],
    }


@router.post(
    "/bundles",
    response_model=IngestResult,
    responses=ERRORS,
    summary="Ingest a STIX 2.1 (or 2.0) bundle",
    description=(
        "Stores the bundle whole or not at all; with `partial=true` the valid objects are "
        "stored and each rejected one is reported. Objects without a TLP marking take `tlp`, "
        "else the node default."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BUNDLE_SCHEMA}},
        }
    },
)
async def post_bundle(
    request: Request,
    caller: Annotated[Caller, Depends(caller_of)],
    partial: bool = False,
    tlp: TlpParam = None,
    recipients: Annotated[
        str | None, Query(description="comma-separated organisations, or group:NAME")
    ] = None,
) -> JSONResponse:
    user = caller.require(*WRITERS)
    node = node_of(request)
    level = _tlp(tlp)
    body = await request.body()
    report = await run_in_threadpool(_ingest, node, user, body, level, recipients, partial)
    result = ingest_result(report)
    await run_in_threadpool(
        node.audit,
        caller,
        "write",
        None,
        stored=result["stored"],
        duplicates=result["duplicates"],
        rejected=result["rejected"],
    )
    if report.error is not None:
        raise Problem(400, report.error, [{"pointer": "/", "detail": report.error}])
    if result["rejected"] and not partial:
        errors = [p for o in result["objects"] for p in o["problems"]]
        detail = (
            f"{result['rejected']} object(s) rejected, nothing stored "
            f"(first: {errors[0]['pointer']}: {errors[0]['reason']}); "
            "send partial=true to store the valid ones"
        )
        raise Problem(
            422,
            detail,
            [{"pointer": e["pointer"], "detail": e["reason"]} for e in errors],
            extra={"result": result},
        )
    return JSONResponse(result)


def _ingest(
    node: Node,
    user: Any,
    body: bytes,
    level: Tlp | None,
    recipients: str | None,
    partial: bool,
) -> IngestReport:
    try:
        named = recipients_from_names(node.store, (recipients or "").split(","))
    except NotFound as exc:
        raise Problem(422, str(exc), [{"pointer": "/recipients", "detail": str(exc)}]) from None
    options = IngestOptions(tlp=level, recipients=named, partial=partial, strict_document=True)
    return Ingester(node.store, user, node.settings.default_tlp).ingest_bytes(
        body, "request body", options
    )


def _tlp(text: str | None) -> Tlp | None:
    if text is None:
        return None
    try:
        return Tlp.parse(text)
    except ValueError as exc:
        raise Problem(422, str(exc), [{"pointer": "/tlp", "detail": str(exc)}]) from None


def _raw_list(objects: list[StoredObject]) -> bytes:
    return ("[" + ",".join(o.raw for o in objects) + "]").encode()


@router.get(
    "/objects",
    response_model=ObjectPage,
    responses=ERRORS,
    summary="Latest versions of the objects you may see: browse and full-text search",
    description=(
        "Filters combine with AND. `q` finds words of names, descriptions, aliases, labels "
        "and external ids (`T1059.001`): every term must be found; a quoted phrase finds its "
        'words in a row, a trailing `*` words that begin so (`"credential dumping" cobalt*`); '
        "other punctuation only separates words. Pages follow `next` (a cursor for the same "
        "filters); there is no total."
    ),
)
def list_objects(
    request: Request,
    caller: Annotated[Caller, Depends(caller_of)],
    type: Annotated[list[str] | None, Query(description="STIX type; repeatable")] = None,
    creator: Annotated[str | None, Query(description="organisation name or id")] = None,
    tlp: TlpParam = None,
    label: Annotated[str | None, Query(description="one of its labels, exactly")] = None,
    modified_since: Annotated[
        str | None, Query(description="RFC 3339 timestamp or day (YYYY-MM-DD), inclusive")
    ] = None,
    modified_until: Annotated[
        str | None, Query(description="RFC 3339 timestamp or day (YYYY-MM-DD), inclusive")
    ] = None,
    q: Annotated[
        str | None, Query(description="words to find (full text)", max_length=MAX_SEARCH_CHARS)
    ] = None,
    order: Annotated[
        Literal["oldest", "newest"], Query(description="storage order, or newest first")
    ] = "oldest",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    node = node_of(request)
    filters = BrowseFilters(
        types=type or (),
        tlp=tlp,
        creator=creator,
        label=label,
        modified_since=modified_since,
        modified_until=modified_until,
        q=q,
        order=order,
    )
    try:
        found = browse(node.store, caller.viewer, filters, cursor, limit)
    except BadFilter as exc:
        pointer = [{"pointer": f"/{exc.parameter}", "detail": exc.detail}]
        raise Problem(422, str(exc), pointer) from None
    except BadCursor:
        raise node.bad_cursor() from None
    node.audit_reads(caller, found.objects, "GET /objects")
    next_cursor = f'"{found.next}"' if found.next else "null"
    body = b'{"objects":' + _raw_list(found.objects) + b',"next":' + next_cursor.encode() + b"}"
    return Response(body, media_type="application/json")


@router.get(
    "/objects/{object_id}",
    responses=ERRORS,
    summary="The latest version of an object, as stored",
    response_model=dict[str, Any],
)
def get_object(
    request: Request, object_id: str, caller: Annotated[Caller, Depends(caller_of)]
) -> Response:
    node = node_of(request)
    found = node.store.objects.get(caller.viewer, object_id)
    if found is None:
        raise Problem(404, f"no object {object_id} that you may see")
    node.audit_reads(caller, [found], "GET /objects/{id}")
    return Response(found.raw.encode(), media_type="application/json")


@router.get(
    "/objects/{object_id}/versions",
    responses=ERRORS,
    summary="Every version of an object you may see, oldest first",
    response_model=dict[str, list[dict[str, Any]]],
)
def get_versions(
    request: Request, object_id: str, caller: Annotated[Caller, Depends(caller_of)]
) -> Response:
    node = node_of(request)
    found = node.store.objects.versions(caller.viewer, object_id)
    if not found:
        raise Problem(404, f"no object {object_id} that you may see")
    node.audit_reads(caller, found, "GET /objects/{id}/versions")
    return Response(b'{"versions":' + _raw_list(found) + b"}", media_type="application/json")
