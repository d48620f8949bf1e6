"""GET /audit: the audit log. Node admins read all of it; org-admins their organisation's."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from accord.api.auth import Caller
from accord.api.context import caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.api.schemas import AuditPage
from accord.model.roles import Role
from accord.model.timestamps import timestamp_key

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
    user = caller.require(Role.ADMIN, Role.ORG_ADMIN)
    org = None if user.role == Role.ADMIN else user.org_id
    after = 0
    if cursor:
        try:
            after = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise Problem(400, "the cursor is not one this node gave out") from None
    since_key = None
    if since is not None:
        try:
            since_key = timestamp_key(since)
        except ValueError as exc:
            raise Problem(
                422, f"since: {exc}", [{"pointer": "/since", "detail": str(exc)}]
            ) from None
    entries = node_of(request).store.audit.entries(org, since_key, action, after, limit + 1)
    page, more = entries[:limit], len(entries) > limit
    next_cursor = (
        base64.urlsafe_b64encode(str(page[-1].seq).encode()).decode().rstrip("=")
        if more and page
        else None
    )
    return JSONResponse(
        {
            "entries": [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "user_id": e.user_id,
                    "org_id": e.org_id,
                    "action": e.action,
                    "target": e.target,
                    "detail": e.detail,
                    "hash": e.hash,
                }
                for e in page
            ],
            "next": next_cursor,
        }
    )
