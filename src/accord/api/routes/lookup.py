"""GET /lookup?value=... and POST /lookup (up to 10,000 values): the verdict-first look-up.

Every look-up is audited: who, which value, which objects answered. A value known only to
objects the caller may not see answers exactly like a value nobody knows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from accord.api.auth import Caller
from accord.api.context import Node, caller_or_anonymous, node_of
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.api.schemas import BulkAnswer, BulkLookup, LookupAnswer
from accord.intel.lookup import Answer, Lookup
from accord.model.observables import KINDS

router = APIRouter(tags=["look-up"])


def _run(node: Node, caller: Caller, values: list[str], kind: str | None) -> list[Answer]:
    if kind is not None and kind not in KINDS:
        choices = ", ".join(sorted(KINDS))
        raise Problem(
            422,
            f"unknown type {kind!r}: use one of {choices}",
            [{"pointer": "/type", "detail": "unknown type"}],
        )
    lookup = Lookup(node.store, caller.viewer, node.benign_check(caller))
    answers = lookup.many(values, kind)
    user_id = caller.user.id if caller.user else None
    node.store.audit.append(*lookup.audit_events(answers, user_id))
    return answers


@router.get(
    "/lookup",
    response_model=LookupAnswer,
    responses=ERRORS,
    summary="Look up one value: verdict, score, reasons and context",
)
async def lookup_one(
    request: Request,
    caller: Annotated[Caller, Depends(caller_or_anonymous)],
    value: Annotated[str, Query(min_length=1, max_length=8192)],
    type: Annotated[str | None, Query(description="value type; detected if absent")] = None,
) -> JSONResponse:
    # Run inline, not in the thread pool: a single look-up is a few indexed queries (well
    # under a millisecond), cheaper than the hand-over to a thread and back.
    answer = _run(node_of(request), caller, [value], type)[0]
    if answer.error is not None:
        raise Problem(422, answer.error, [{"pointer": "/value", "detail": answer.error}])
    return JSONResponse(answer.as_json())


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
) -> JSONResponse:
    answers = await run_in_threadpool(_run, node_of(request), caller, body.values, body.type)
    payload: dict[str, Any] = {"answers": [answer.as_json() for answer in answers]}
    return JSONResponse(payload)
