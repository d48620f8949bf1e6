"""The audit log, for those who may read it (`accord.intel.audit_view.READERS`): the node
admin every entry, an org-admin their organisation's (`audit_view.scope`).

Entries are shown as `audit_view.present` shows them to the API, never more: an object the
reader may not see is left out of what an entry says, and a filter cannot find what the
listing would withhold (`audit_view.query`). The filters are the actor (an e-mail address
among the users whose entries the reader may read; any other address finds nothing, alike
for an unknown one and another organisation's), the action, a date range in the reader's
time zone and the target. Pages go newest first, by keyset on the entry's sequence, the
cursor sealed for the reader and the filters (`accord.store.cursors`) as the API's are.

The chain's verification walks the whole log (`audit_view.chain_status`), so it is asked
for apart from the listing (``/audit/chain``): htmx loads it into the page once the page is
shown; without JavaScript it is a link.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.intel import audit_view
from accord.model.visibility import Viewer
from accord.store.audit import CONTENT_CHANGED
from accord.store.cursors import BadCursor, listing
from accord.store.node import Store
from accord.store.organisations import User
from accord.web import i18n
from accord.web.pages.common import is_htmx, page
from accord.web.portal import portal_of
from accord.web.visitors import PageError, Visitor, member, require

router = APIRouter(include_in_schema=False)

PAGE = 50  # entries a page
ACTIONS = (
    "lookup",
    "read",
    "write",
    "delete",
    "refused-version",
    "admin",
    "sign-in",
    "sign-in-failed",
    "sign-out",
)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the reader asked for, as typed (shown back in the form)."""

    user: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    target: str = ""

    def query_string(self) -> dict[str, str]:
        """The filters that are set (the next page's link carries them)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def _filters(request: Request) -> Filters:
    asked = request.query_params
    values = {f.name: (asked.get(f.name) or "").strip() for f in fields(Filters)}
    limits = {"user": 320, "action": 40, "since": 10, "until": 10, "target": 300}
    if any(len(values[name]) > limit for name, limit in limits.items()):
        raise PageError(422, "bad-form")
    return Filters(**values)


def _day_key(text: str, time_zone: str | None, days: int = 0) -> str | None:
    """The log's time key of the start of day ``text`` (YYYY-MM-DD) in the reader's zone,
    ``days`` later; None when empty; ValueError when not a date."""
    if not text:
        return None
    day = date.fromisoformat(text) + timedelta(days=days)
    start = datetime(day.year, day.month, day.day, tzinfo=i18n.zone(time_zone))
    return start.astimezone(i18n.zone("UTC")).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _read(
    store: Store, user: User, viewer: Viewer, time_zone: str | None, asked: Filters, cursor: str
) -> dict[str, Any]:
    org = audit_view.scope(user)
    people = {u.id: u.email for u in store.directory.users(org)}
    context: dict[str, Any] = {
        "filters": asked,
        "actions": ACTIONS,
        "entries": [],
        "next": None,
        "people": people,
        "orgs": {o.id: o.name for o in store.directory.orgs()},
        "error": None,
        "paged": bool(cursor),
    }
    try:
        since = _day_key(asked.since, time_zone)
        until = _day_key(asked.until, time_zone, days=1)  # the last day is included
    except ValueError:
        context["error"] = "bad-date"
        return context
    user_id = None
    if asked.user:
        by_email = {email: uid for uid, email in people.items()}
        user_id = by_email.get(asked.user.lower())
        if user_id is None:  # unknown, or not among those the reader reads: alike
            context["error"] = "no-such-user"
            return context
    query = audit_view.query(
        user,
        viewer,
        store.objects,
        user_id=user_id,
        action=asked.action or None,
        target=asked.target or None,
        since=since,
        until=until,
    )
    asked_for = listing("portal /audit", org, user_id, asked.action, asked.target, since, until)
    before = None
    if cursor:
        try:
            before = store.cursors.open(cursor, viewer, asked_for)
        except BadCursor:
            raise PageError(400, "bad-request") from None
    found = store.audit.newest(query, before, PAGE + 1)
    shown = found[:PAGE]
    context["entries"] = audit_view.present(shown, viewer, store.objects)
    if len(found) > PAGE and shown:
        context["next"] = store.cursors.seal(shown[-1].seq, viewer, asked_for)
    return context


@router.get("/audit")
async def audit_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    require(visitor, *audit_view.READERS)
    asked = _filters(request)
    cursor = (request.query_params.get("cursor") or "")[:100]
    context = await run_in_threadpool(
        _read,
        portal_of(request).store,
        visitor.account.user,
        visitor.viewer,
        visitor.account.time_zone,
        asked,
        cursor,
    )
    context["query"] = asked.query_string()
    status = 422 if context["error"] == "bad-date" else 200
    return page(request, visitor, "audit.html", context, status)


@router.get("/audit/chain")
async def chain_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    require(visitor, *audit_view.READERS)
    store = portal_of(request).store
    status = await run_in_threadpool(audit_view.chain_status, store.audit, visitor.account.user)
    context = {"chain": status, "changed": CONTENT_CHANGED}
    template = "audit_chain.html" if is_htmx(request) else "audit_chain_page.html"
    return page(request, visitor, template, context)
