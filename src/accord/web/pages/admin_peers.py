"""The node admin's Peers page (docs/federation.md): who this node is (its identity, and the
card a peer's operator needs), the peers with how each stands, a form to add one, and "pull
now" / "push now" / remove for each. A node without an identity gets a form to give it one.

The same code as `accord peer` and ``/api/v1/peers``: `accord.federation.peer_registry.add_peer`
(its checks name the form field at fault), `accord.federation.peer_status.status_of`,
`accord.federation.peer_sync.run`. Only the node admin opens the page: anyone else gets the
page of a missing one, as for the other node-admin tabs (`admin_frame.TABS`). Keys a peer gave
this node are never shown; the key of the peer's account here is shown once, when made.
Every change is audited as the other administrative changes are.

A pull or a push asked here runs while the request waits (a first pull of a large peer takes
minutes) and the page shows its report; a peer held by another run is not run twice.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.federation.peer_registry import (
    CardUnreachable,
    PeerInputError,
    PeerRequest,
    Registered,
    add_peer,
)
from accord.federation.peer_status import status_of
from accord.federation.peer_sync import BUSY, run
from accord.model.jsondoc import JsonDocumentError, loads
from accord.model.roles import Role
from accord.store.node import Store
from accord.store.node_identity import CLASSES, NoIdentity, hosted_orgs
from accord.store.peers import PULL, PUSH, BadCard, Peer, PeerConflict, PeerNotFound
from accord.store.taxii import EVERYTHING_ID
from accord.web.pages.admin_frame import admin, admin_page, record, text
from accord.web.portal import portal_of
from accord.web.visitors import PageError, Visitor, member, posted

router = APIRouter(include_in_schema=False)

TEMPLATE = "admin_peers.html"
TAB = "peers"
CARD_LIMIT = 1_000_000  # characters of a pasted card (a node hosting thousands of organisations)


def _context(store: Store) -> dict[str, Any]:
    identity = store.identity.find()
    names = {org.id: org.name for org in store.directory.orgs()}
    return {
        "identity": identity,
        "operator": names.get(identity.operator_org) if identity else None,
        "card": (
            orjson.dumps(store.identity.card(), option=orjson.OPT_INDENT_2).decode()
            if identity
            else None
        ),
        "operators": hosted_orgs(store.engine) if identity is None else [],
        "classes": CLASSES,
        "peers": [
            {
                "peer": peer.describe(),
                "operator": names.get(peer.operator_org, peer.operator_org),
                "status": status_of(store, peer),
            }
            for peer in store.peers.all()
        ],
        "default_collection": EVERYTHING_ID,
        "form": {},
        "error": None,
        "reason": None,
        "done": None,
        "report": None,
        "added": None,
    }


async def _page(request: Request, visitor: Visitor, status: int = 200, **changes: Any) -> Response:
    context = await run_in_threadpool(_context, portal_of(request).store)
    context.update(changes)
    return admin_page(request, visitor, TEMPLATE, TAB, context, status)


@router.get("/admin/peers")
async def peers_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    admin(visitor, Role.ADMIN)
    return await _page(request, visitor, done=request.query_params.get("done"))


# the node's identity ---------------------------------------------------------------------


@router.post("/admin/peers/identity")
async def set_identity(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    admin(visitor, Role.ADMIN)
    form = await posted(request, visitor)
    fields = {
        "node_name": text(form, "node_name", 200),
        "operator": text(form, "operator", 100),
        "identity_class": text(form, "identity_class", 20),
    }
    store = portal_of(request).store
    if not fields["node_name"]:
        return await _page(request, visitor, 422, error="node-name", form=fields)
    try:
        identity = await run_in_threadpool(
            store.identity.set, fields["node_name"], fields["operator"], fields["identity_class"]
        )
    except ValueError:  # not a hosted organisation, or not a STIX identity class
        return await _page(request, visitor, 422, error="bad-identity", form=fields)
    await record(
        request,
        visitor,
        identity.id,
        "set node identity",
        name=identity.name,
        operator=identity.operator_org,
        identity_class=identity.identity_class,
    )
    return RedirectResponse("/admin/peers?done=identity", status_code=303)


# adding a peer ---------------------------------------------------------------------------


def _request(form: Any) -> tuple[PeerRequest, dict[str, Any]]:
    """The form as a `PeerRequest`, and what to show again in the form on an error (never
    the key)."""
    shown = {
        "name": text(form, "name", 100),
        "url": text(form, "url", 2048),
        "card": text(form, "card", CARD_LIMIT),
        "ca_file": text(form, "ca_file", 4096),
        "collection": text(form, "collection", 300),
        "interval": text(form, "interval", 12),
        "pull": form.get("pull") == "on",
        "push": form.get("push") == "on",
        "community": form.get("community") == "on",
    }
    key = text(form, "key", 2048)
    card: Any = None
    if shown["card"]:
        try:
            card = loads(shown["card"].encode())
        except JsonDocumentError:
            raise PeerInputError("card", "not JSON") from None
        if not isinstance(card, dict):
            raise PeerInputError("card", "not a JSON object")
    interval = None
    if shown["interval"]:
        if not shown["interval"].isdigit():
            raise PeerInputError("interval", "not a number")
        interval = int(shown["interval"])
    wanted = PeerRequest(
        shown["name"],
        url=shown["url"] or None,
        key=key or None,
        card=card,
        ca_file=shown["ca_file"] or None,
        collection=shown["collection"] or EVERYTHING_ID,
        pull=shown["pull"],
        push=shown["push"],
        community=shown["community"],
        interval=interval,
    )
    return wanted, shown


Added = tuple[Registered | None, str | None, str | None, dict[str, Any]]


def _add(store: Store, form: Any) -> Added:
    """(the registered peer, or the error code and its reason; the form to show again)."""
    shown: dict[str, Any] = {}
    try:
        wanted, shown = _request(form)
        return add_peer(store, wanted), None, None, shown
    except CardUnreachable as exc:
        return None, "unreachable", str(exc), shown
    except PeerInputError as exc:
        return None, exc.field, None, shown
    except BadCard as exc:
        return None, "card", str(exc), shown
    except PeerConflict as exc:
        return None, "conflict", str(exc), shown
    except NoIdentity:
        return None, "no-identity", None, shown


@router.post("/admin/peers")
async def add(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    admin(visitor, Role.ADMIN)
    form = await posted(request, visitor)
    store = portal_of(request).store
    registered, error, reason, shown = await run_in_threadpool(_add, store, form)
    if registered is None:
        status = 409 if error in ("conflict", "no-identity") else 422
        return await _page(request, visitor, status, error=error, reason=reason, form=shown)
    peer = registered.peer
    await record(
        request,
        visitor,
        peer.node_id,
        "add peer",
        name=peer.name,
        url=peer.url,
        pull=peer.pull,
        push=peer.push,
        community=peer.community,
    )
    # Not a redirect: the key of the peer's account here is shown this once.
    added = {"name": peer.name, "account": registered.account, "key": registered.key}
    return await _page(request, visitor, 201, done="added", added=added)


# runs and removal ------------------------------------------------------------------------


async def _peer(request: Request, name: str) -> Peer:
    try:
        return await run_in_threadpool(portal_of(request).store.peers.get, name[:100])
    except PeerNotFound:
        raise PageError(404, "not-found") from None


async def _run(request: Request, visitor: Visitor, name: str, direction: str) -> Response:
    admin(visitor, Role.ADMIN)
    await posted(request, visitor)
    peer = await _peer(request, name)
    await record(request, visitor, peer.node_id, f"{direction} peer", name=peer.name)
    report = await run_in_threadpool(run, portal_of(request).store, peer, direction)
    if report.error == BUSY:
        return await _page(request, visitor, 409, error="busy", reason=peer.name)
    return await _page(request, visitor, report=report.as_json())


@router.post("/admin/peers/{name}/pull")
async def pull_now(
    request: Request, name: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    return await _run(request, visitor, name, PULL)


@router.post("/admin/peers/{name}/push")
async def push_now(
    request: Request, name: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    return await _run(request, visitor, name, PUSH)


@router.post("/admin/peers/{name}/remove")
async def remove(
    request: Request, name: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    admin(visitor, Role.ADMIN)
    form = await posted(request, visitor)
    peer = await _peer(request, name)
    if form.get("confirm") != "yes":  # the box that says so is ticked
        return await _page(request, visitor, 422, error="confirm", reason=peer.name)
    await run_in_threadpool(portal_of(request).store.peers.remove, peer.name)
    await record(request, visitor, peer.node_id, "remove peer", name=peer.name)
    return RedirectResponse("/admin/peers?done=removed", status_code=303)
