"""GET /audit: the audit log. Node admins read all of it; org-admins their organisation's;
each through their own visibility (`accord.intel.audit_view`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from accord.api.auth import Caller
from accord.api.context import caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.api.schemas import AuditPage
from accord.intel import audit_view
from accord.model.timestamps import timestamp_key
from accord.store.cursors import listing

router = APIRouter(tags=["audit"], route_class=JsonRoute)


@router.get("/audit", response_model=AuditPage, responses=ERRORS)
def read_audit(
    request: Request,
    caller: Annotated[Caller, Depends(caller_of)],
    since: Annotated[str | None, Query(description="RFC 3339 timestamp")] = None,
    action: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    user = caller.require(*audit_view.READERS)
    org = audit_view.scope(user)
    since_key = None
    if since is not None:
        try:
            since_key = timestamp_key(since)
        except ValueError as exc:
            raise Problem(
                422, f"since: {exc}", [{"pointer": "/since", "detail": str(exc)}]
            ) from None
    node = node_of(request)
    asked = listing("GET /audit", org, since_key, action)
    after = node.cursor_after(caller, cursor, asked)
    store = node.store
    entries = store.audit.entries(org, since_key, action, after, limit + 1)
    page, more = entries[:limit], len(entries) > limit
    next_cursor = node.next_cursor(caller, page[-1].seq, asked) if more and page else None
    return JSONResponse(
        {
            "entries": audit_view.present(page, caller.viewer, store.objects),
            "next": next_cursor,
        }
    )
