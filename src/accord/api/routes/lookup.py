"""GET /lookup?value=... and POST /lookup (up to 10,000 values): the verdict-first look-up.

Every look-up is audited: who, which value, which objects answered. A value known only to
objects the caller may not see answers exactly like a value nobody knows.

GET /lookup is the node's hottest route, so it is served by a plain Starlette endpoint
(:func:`lookup_one_fast`, placed ahead of the documented FastAPI route by
:func:`fast_routes`): FastAPI's dependency solving runs a synchronous dependency in the
thread pool and validates the query through pydantic, which together cost more than the
look-up itself. The FastAPI route below stays as the OpenAPI description of the same
contract (same parameters, answers and problem documents), and as the handler of any method
the fast route does not take.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from accord.api.auth import Caller
from accord.api.context import Node, caller_or_anonymous, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.routes.objects import ERRORS
from accord.api.schemas import BulkAnswer, BulkLookup, LookupAnswer
from accord.model.observables import KINDS

router = APIRouter(tags=["look-up"], route_class=JsonRoute)

MAX_VALUE = 8192  # characters in one looked-up value


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        choices = ", ".join(sorted(KINDS))
        raise Problem(
            422,
            f"unknown type {kind!r}: use one of {choices}",
            [{"pointer": "/type", "detail": "unknown type"}],
        )


def _check_values(values: list[str], pointer: str) -> None:
    """No NUL byte: no value has one, and PostgreSQL cannot hold one (not even in the audit)."""
    for index, value in enumerate(values):
        if "\x00" in value:
            where = pointer if len(values) == 1 and pointer == "/value" else f"{pointer}/{index}"
            detail = "a value must not hold a NUL byte (U+0000)"
            raise Problem(422, f"{where}: {detail}", [{"pointer": where, "detail": detail}])


async def _one(node: Node, caller: Caller, value: str, kind: str | None) -> bytes:
    """One look-up, audited (an entry for the value), as the JSON of its answer: given once
    its audit entry is committed. Alone, the look-up reads inline (a few indexed queries,
    cheaper than the hand-over to a thread and back); on PostgreSQL, while other look-ups
    are in flight, it reads on a look-up thread (`accord.api.lookup_threads`). The commit is
    awaited, so that the event loop serves other requests meanwhile (on PostgreSQL those
    that arrive share the next commit: `accord.store.audit_group`)."""
    _check_kind(kind)
    _check_values([value], "/value")
    user_id = caller.user.id if caller.user else None
    threads = node.lookup_threads
    try:
        if threads.begin() and node.lookups.waits_on_database:  # others in flight
            answer = await threads.run_recorded(
                partial(node.lookups.one_pending, caller.viewer, value, kind, user_id)
            )
        else:
            answer, recorded = node.lookups.one_pending(caller.viewer, value, kind, user_id)
            if not recorded.done():
                await threads.answered(recorded)
            recorded.result()  # a look-up whose entry was not recorded is not answered (500)
    finally:
        threads.end()
    if answer.error is not None:
        raise Problem(422, answer.error, [{"pointer": "/value", "detail": answer.error}])
    return orjson.dumps(answer.as_json())


def _many(node: Node, caller: Caller, values: list[str], kind: str | None) -> bytes:
    """A bulk look-up, audited as one entry that names every value and its answerers. From
    `lookup_workers.SPLIT_FROM` values, the node's helper process answers the first half
    meanwhile."""
    _check_kind(kind)
    _check_values(values, "/values")
    user_id = caller.user.id if caller.user else None
    return node.lookups.bulk(caller.viewer, values, kind, user_id, node.bulk)


def _invalid_value(detail: str) -> Problem:
    """The problem FastAPI's validation reports for the ``value`` query parameter."""
    return Problem(422, f"/query/value: {detail}", [{"pointer": "/query/value", "detail": detail}])


async def lookup_one_fast(request: Request) -> Response:
    """GET /lookup without FastAPI's machinery: authentication (and the rate limit), the
    same checks of ``value`` and ``type`` in the same order, the audited look-up."""
    node = node_of(request)
    caller = node.auth.caller(request, anonymous_ok=True)  # with the same limits
    query = request.query_params
    value = query.get("value")
    if value is None:
        raise _invalid_value("Field required")
    if not value:
        raise _invalid_value("String should have at least 1 character")
    if len(value) > MAX_VALUE:
        raise _invalid_value(f"String should have at most {MAX_VALUE} characters")
    body = await _one(node, caller, value, query.get("type"))
    return Response(body, media_type="application/json")


class _GetOnly(Route):
    """A route for GET alone (Starlette adds HEAD to a GET route; FastAPI's does not)."""

    def __init__(self, path: str, endpoint: Any) -> None:
        super().__init__(path, endpoint, methods=["GET"], include_in_schema=False)
        self.methods = {"GET"}


def fast_routes(prefix: str) -> list[BaseRoute]:
    """Routes to place ahead of the FastAPI ones: they serve, the FastAPI ones document."""
    return [_GetOnly(f"{prefix}/lookup", lookup_one_fast)]


@router.get(
    "/lookup",
    response_model=LookupAnswer,
    responses=ERRORS,
    summary="Look up one value: verdict, score, reasons and context",
)
async def lookup_one(
    request: Request,
    caller: Annotated[Caller, Depends(caller_or_anonymous)],
    value: Annotated[str, Query(min_length=1, max_length=MAX_VALUE)],
    type: Annotated[str | None, Query(description="value type; detected if absent")] = None,
) -> Response:
    # Served by lookup_one_fast; this handler answers the same where it is reached.
    body = await _one(node_of(request), caller, value, type)
    return Response(body, media_type="application/json")


@router.post(
    "/lookup",
    response_model=BulkAnswer,
    responses=ERRORS,
    summary="Look up many values (up to 10,000): one answer per value, in order",
)
async def lookup_many(
    request: Request,
    body: BulkLookup,
    caller: Annotated[Caller, Depends(caller_or_anonymous)],
) -> Response:
    node = node_of(request)
    most = node.settings.anonymous_bulk_max
    if caller.anonymous and len(body.values) > most:
        detail = (
            f"anonymous callers may look up at most {most} values at once, not "
            f"{len(body.values)}: send an API key for up to 10,000"
        )
        raise Problem(422, detail, [{"pointer": "/values", "detail": detail}])
    payload = await run_in_threadpool(_many, node, caller, body.values, body.type)
    return Response(payload, media_type="application/json")
