"""Administration of the node and its organisations: organisations (and whether each
requires a second factor), sharing groups, an organisation's allowlist, and the TAXII feeds
the node pulls from.

Who may do what is the API's and the command line's (`accord.model.roles`): everyone may
list organisations (``GET /api/v1/organisations``); the node admin adds them, sharing groups
and feeds; the node admin and an organisation's org-admins set whether it requires a second
factor (`may_set_org_policy`) and keep its allowlist (`may_keep_allowlist`). An allowlist
the administrator may not keep answers exactly like an organisation that does not exist.
Every change is audited as the command line audits it (action ``admin``, ``change``).

"Pull now" claims the feed as the scheduler does (`accord.store.feeds.Feeds.claim`), so a
pull by hand never runs beside a scheduled one, and pulls after the answer is sent: the
page says it started, and the feed's list shows when it ended and how.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.federation.feed_pull import pull
from accord.ingest.stix import recipients_from_names
from accord.model.observables import ObservableError
from accord.model.roles import Role, may_keep_allowlist, may_set_org_policy
from accord.model.tlp import Tlp
from accord.store.audit import Event
from accord.store.feeds import Feed
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, NotFound, User
from accord.web.pages.admin_frame import VIA, admin, admin_page, record, text
from accord.web.portal import Portal, portal_of
from accord.web.visitors import PageError, Visitor, member, posted

router = APIRouter(include_in_schema=False)
log = logging.getLogger("accord.web.admin")

TLP_CHOICES = tuple(level.slug for level in Tlp)


# organisations ---------------------------------------------------------------------------


def _orgs_context(store: Store, actor: User) -> dict[str, Any]:
    strict = store.credentials.orgs_requiring_totp()
    return {
        "orgs": [
            {
                "org": org,
                "requires_totp": org.id in strict,
                "may_set": may_set_org_policy(actor, org.id),
            }
            for org in store.directory.orgs()
        ],
        "may_add": actor.role is Role.ADMIN,
        "form": {},
        "error": None,
        "done": None,
    }


@router.get("/admin/organisations")
async def organisations_page(
    request: Request, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    context = await run_in_threadpool(_orgs_context, portal_of(request).store, actor)
    context["done"] = request.query_params.get("done")
    return admin_page(request, visitor, "admin_organisations.html", "organisations", context)


@router.post("/admin/organisations")
async def add_organisation(
    request: Request, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor, Role.ADMIN)
    form = await posted(request, visitor)
    store = portal_of(request).store
    name, sector = text(form, "name", 200), text(form, "sector", 100) or None
    country = text(form, "country", 2).upper() or None
    error, status = None, 303
    if not name:
        error, status = "name-missing", 422
    else:
        try:
            org = await run_in_threadpool(store.directory.add_org, name, sector, country)
        except AlreadyExists:
            error, status = "exists", 409
    if error is not None:
        context = await run_in_threadpool(_orgs_context, store, actor)
        context.update(error=error, form={"name": name, "sector": sector, "country": country})
        return admin_page(
            request, visitor, "admin_organisations.html", "organisations", context, status
        )
    await record(request, visitor, org.id, "add organisation", name=org.name)
    return RedirectResponse("/admin/organisations?done=added", status_code=303)


@router.post("/admin/organisations/{org_id}/require-totp")
async def require_totp(
    request: Request, org_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    form = await posted(request, visitor)
    store = portal_of(request).store
    required = form.get("required") == "on"
    try:
        org = await run_in_threadpool(store.directory.org, org_id[:100])
    except NotFound:
        raise PageError(404, "not-found") from None
    if not may_set_org_policy(actor, org.id):
        raise PageError(404, "not-found")
    await run_in_threadpool(store.credentials.require_totp, org.id, required)
    # Sessions that gave no second factor end (as over the API); the portal would ask them
    # for one at their next page anyway.
    ended = (
        await run_in_threadpool(store.web_sessions.revoke_without_second_factor, org.id)
        if required
        else 0
    )
    change = "require second factor" if required else "second factor optional"
    await record(request, visitor, org.id, change, sessions_ended=ended)
    return RedirectResponse("/admin/organisations?done=totp", status_code=303)


# sharing groups --------------------------------------------------------------------------


def _groups_context(store: Store) -> dict[str, Any]:
    orgs = store.directory.orgs()
    names = {o.id: o.name for o in orgs}
    return {
        "groups": [
            {"group": g, "members": sorted(names.get(i, i) for i in g.org_ids)}
            for g in store.directory.groups()
        ],
        "orgs": orgs,
        "form": {"members": []},
        "error": None,
        "done": None,
    }


@router.get("/admin/groups")
async def groups_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    admin(visitor, Role.ADMIN)
    context = await run_in_threadpool(_groups_context, portal_of(request).store)
    context["done"] = request.query_params.get("done")
    return admin_page(request, visitor, "admin_groups.html", "groups", context)


@router.post("/admin/groups")
async def add_group(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    admin(visitor, Role.ADMIN)
    form = await posted(request, visitor)
    store = portal_of(request).store
    name = text(form, "name", 200)
    members = [str(m)[:100] for m in form.getlist("members")][:1000]
    error, status = None, 303
    if not name:
        error, status = "name-missing", 422
    else:
        try:
            group = await run_in_threadpool(store.directory.add_group, name, members)
        except NotFound:
            error, status = "bad-form", 422
        except AlreadyExists:
            error, status = "exists", 409
    if error is not None:
        context = await run_in_threadpool(_groups_context, store)
        context.update(error=error, form={"name": name, "members": members})
        return admin_page(request, visitor, "admin_groups.html", "groups", context, status)
    await record(
        request,
        visitor,
        group.id,
        "add sharing group",
        name=group.name,
        organisations=list(group.org_ids),
    )
    return RedirectResponse("/admin/groups?done=added", status_code=303)


# the allowlist ---------------------------------------------------------------------------


def _allowlist_org(store: Store, actor: User, org_id: str | None) -> str:
    """The organisation whose allowlist is asked for (default: the administrator's own), if
    `may_keep_allowlist`; an unknown organisation and another's answer alike (404)."""
    wanted = actor.org_id if org_id is None else ""
    if org_id is not None and len(org_id) <= 100:
        with contextlib.suppress(NotFound):
            wanted = store.directory.org(org_id).id
    if not wanted or not may_keep_allowlist(actor, wanted):
        raise PageError(404, "not-found")
    return wanted


def _allowlist_context(store: Store, actor: User, org_id: str) -> dict[str, Any]:
    return {
        "org": store.directory.org(org_id),
        # Node admins keep every organisation's allowlist: they choose which.
        "orgs": store.directory.orgs() if actor.role is Role.ADMIN else [],
        "entries": store.allowlists.entries(org_id),
        "form": {},
        "error": None,
        "done": None,
    }


@router.get("/admin/allowlist")
async def allowlist_page(
    request: Request, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    store = portal_of(request).store
    org_id = await run_in_threadpool(_allowlist_org, store, actor, request.query_params.get("org"))
    context = await run_in_threadpool(_allowlist_context, store, actor, org_id)
    context["done"] = request.query_params.get("done")
    return admin_page(request, visitor, "admin_allowlist.html", "allowlist", context)


@router.post("/admin/allowlist")
async def allowlist_change(
    request: Request, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    form = await posted(request, visitor)
    store = portal_of(request).store
    org_id = await run_in_threadpool(_allowlist_org, store, actor, text(form, "org", 100) or None)
    action = text(form, "action", 20)
    back = f"/admin/allowlist?org={org_id}"
    if action == "remove":
        try:
            removed = await run_in_threadpool(
                store.allowlists.remove, org_id, text(form, "entry", 100)
            )
        except NotFound:
            raise PageError(404, "not-found") from None
        await record(
            request,
            visitor,
            org_id,
            "allowlist remove",
            entry=removed.display,
            kind=removed.kind,
        )
        return RedirectResponse(back + "&done=removed", status_code=303)
    if action != "add":
        raise PageError(422, "bad-form")
    value, comment = text(form, "value", 2048), text(form, "comment", 500) or None
    error, status = None, 303
    try:
        entry = await run_in_threadpool(
            store.allowlists.add, org_id, value, comment, visitor.account.user.email
        )
    except ObservableError:
        error, status = "not-a-value", 422
    except AlreadyExists:
        error, status = "exists", 409
    if error is not None:
        context = await run_in_threadpool(_allowlist_context, store, actor, org_id)
        context.update(error=error, form={"value": value, "comment": comment or ""})
        return admin_page(request, visitor, "admin_allowlist.html", "allowlist", context, status)
    await record(request, visitor, org_id, "allowlist add", entry=entry.display, kind=entry.kind)
    return RedirectResponse(back + "&done=added", status_code=303)


# feeds -----------------------------------------------------------------------------------


def _feeds_context(store: Store) -> dict[str, Any]:
    return {
        "feeds": [
            {"feed": feed, "objects": store.feeds.count(feed.id)} for feed in store.feeds.all()
        ],
        "tlps": TLP_CHOICES,
        "form": {},
        "error": None,
        "done": None,
    }


@router.get("/admin/feeds")
async def feeds_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    admin(visitor, Role.ADMIN)
    context = await run_in_threadpool(_feeds_context, portal_of(request).store)
    context["done"] = request.query_params.get("done")
    return admin_page(request, visitor, "admin_feeds.html", "feeds", context)


def _add_feed(store: Store, owner: User, fields: dict[str, str]) -> tuple[str | None, Feed | None]:
    """(error code, the feed)."""
    if not fields["name"] or not fields["url"] or not fields["collection"]:
        return "missing", None
    if not fields["url"].startswith(("https://", "http://")):
        return "bad-url", None
    if fields["key"] and (fields["username"] or fields["password"]):
        return "both-secrets", None
    if bool(fields["username"]) != bool(fields["password"]):
        return "user-and-password", None
    tlp = None
    if fields["tlp"]:
        if fields["tlp"] not in TLP_CHOICES:
            return "bad-form", None
        tlp = Tlp.parse(fields["tlp"])
    interval = None
    if fields["interval"]:
        if not fields["interval"].isdigit() or int(fields["interval"]) < 10:
            return "bad-interval", None
        interval = int(fields["interval"])
    try:
        named = recipients_from_names(store, fields["recipients"].split(","))
    except NotFound:
        return "bad-recipients", None
    try:
        feed = store.feeds.add(
            fields["name"],
            "taxii",
            owner.id,
            url=fields["url"],
            collection=fields["collection"],
            username=fields["username"] or None,
            secret=(fields["password"] if fields["username"] else fields["key"]) or None,
            tlp=tlp,
            org_ids=sorted(named.org_ids),
            group_ids=sorted(named.group_ids),
            interval=interval,
        )
    except AlreadyExists:
        return "exists", None
    return None, feed


@router.post("/admin/feeds")
async def add_feed(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    owner = admin(visitor, Role.ADMIN)
    form = await posted(request, visitor)
    store = portal_of(request).store
    fields = {
        "name": text(form, "name", 200),
        "url": text(form, "url", 2048),
        "collection": text(form, "collection", 200),
        "username": text(form, "username", 320),
        "password": str(form.get("password") or "")[:2048],
        "key": text(form, "key", 2048),
        "tlp": text(form, "tlp", 20).lower(),
        "interval": text(form, "interval", 12),
        "recipients": text(form, "recipients", 2000),
    }
    error, feed = await run_in_threadpool(_add_feed, store, owner, fields)
    if error is not None or feed is None:
        context = await run_in_threadpool(_feeds_context, store)
        shown = {k: v for k, v in fields.items() if k not in ("password", "key")}
        context.update(error=error, form=shown)
        status = 409 if error == "exists" else 422
        return admin_page(request, visitor, "admin_feeds.html", "feeds", context, status)
    await record(
        request,
        visitor,
        feed.id,
        "add feed",
        name=feed.name,
        url=feed.url,
        collection=feed.collection,
    )
    return RedirectResponse("/admin/feeds?done=added", status_code=303)


def _pull(portal: Portal, feed: Feed, user: User) -> None:
    """Pull a claimed feed and audit the write as the scheduler does, naming who asked."""
    try:
        report = pull(portal.store, feed, portal.settings.default_tlp)
    except Exception:  # the answer is gone: the log, and the feed's last error, tell
        log.exception("feed %s: the pull asked in the portal failed", feed.name)
        return
    portal.store.audit.append(
        Event(
            action="write",
            user_id=user.id,
            org_id=user.org_id,
            target=feed.id,
            detail={
                "via": VIA + " feed pull",
                "feed": feed.name,
                "received": report.received,
                "stored": report.stored,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
                "error": report.error,
            },
        )
    )


@router.post("/admin/feeds/{feed_id}/pull")
async def pull_feed(
    request: Request, feed_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    user = admin(visitor, Role.ADMIN)
    await posted(request, visitor)
    portal = portal_of(request)
    try:
        known = await run_in_threadpool(portal.store.feeds.get, feed_id[:100])
    except NotFound:
        raise PageError(404, "not-found") from None
    claimed = await run_in_threadpool(portal.store.feeds.claim, known.id)
    if claimed is None:
        return RedirectResponse("/admin/feeds?done=busy", status_code=303)
    await record(request, visitor, claimed.id, "pull feed", name=claimed.name)
    return RedirectResponse(
        "/admin/feeds?done=pulling",
        status_code=303,
        background=BackgroundTask(_pull, portal, claimed, user),
    )
