"""Peer nodes over the API (docs/federation.md): `accord peer add / list / status / remove /
pull / push` for the node admin, over the same code as the command line and the portal
(`accord.federation.peer_registry.add_peer`, `accord.federation.peer_status`,
`accord.federation.peer_sync.run`).

Only the node admin: anyone else gets 403, and learns nothing of the peers (not their names,
not their addresses). Keys a peer gave this node are never answered; the key of the peer's
account here is answered once, when it is made. Every change is audited as the other
administrative changes are (action ``admin``, ``change``).

A pull or push asked here runs while the request waits (in a worker thread): a large first
pull takes minutes, so a client should allow for it (``accord peer pull`` on the node, or the
background schedule with ``interval``, are the other ways). A run holds the peer: a second run
asked meanwhile answers 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.convertors import StringConvertor, register_url_convertor

from accord.api.auth import Caller
from accord.api.context import caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.api.schemas import PeerAdded, PeerIn, PeerOut, PeerStatusOut, SyncReportOut
from accord.federation.peer_registry import PeerInputError, PeerRequest, add_peer
from accord.federation.peer_status import status_rows
from accord.federation.peer_sync import BUSY, run
from accord.model.roles import Role
from accord.store.node_identity import NoIdentity
from accord.store.peers import PULL, PUSH, BadCard, PeerConflict, PeerNotFound
from accord.store.taxii import EVERYTHING_ID

router = APIRouter(tags=["federation"], route_class=JsonRoute)


class PeerName(StringConvertor):
    """A peer's name in a path: any segment but ``status`` (``/peers/status`` is the status
    listing, and no peer takes that name: `accord.federation.peer_registry.RESERVED`)."""

    regex = "(?!status/?$)[^/]+"


register_url_convertor("peer_name", PeerName())


def _field(status: int, field: str, detail: str) -> Problem:
    return Problem(status, detail, [{"pointer": f"/{field}", "detail": detail}])


@router.get("/peers", response_model=list[PeerOut], responses=ERRORS)
def list_peers(request: Request, caller: Annotated[Caller, Depends(caller_of)]) -> JSONResponse:
    """The peers, by name (never the keys they gave this node)."""
    caller.require(Role.ADMIN)
    return JSONResponse([peer.describe() for peer in node_of(request).store.peers.all()])


@router.get("/peers/status", response_model=list[PeerStatusOut], responses=ERRORS)
def peer_status(request: Request, caller: Annotated[Caller, Depends(caller_of)]) -> JSONResponse:
    """Each peer's last successful pull and push, the lag since, the last errors, cursors."""
    caller.require(Role.ADMIN)
    return JSONResponse(status_rows(node_of(request).store))


@router.post("/peers", response_model=PeerAdded, responses=ERRORS, status_code=201)
def add(
    request: Request, body: PeerIn, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """Add a peer (or change the peer of that name) from its card, given or fetched from
    ``url`` with ``key``; answers its account here and, when one was made, that account's
    key for the peer's operator."""
    caller.require(Role.ADMIN)
    node = node_of(request)
    wanted = PeerRequest(
        body.name,
        url=body.url,
        key=body.key,
        card=body.card,
        ca_file=body.ca_file,
        collection=body.collection or EVERYTHING_ID,
        pull=body.pull,
        push=body.push,
        community=body.community,
        interval=body.interval,
        new_key=body.new_key,
    )
    try:
        registered = add_peer(node.store, wanted)
    except PeerInputError as exc:
        raise _field(422, exc.field, str(exc)) from None
    except BadCard as exc:
        raise _field(422, "card", str(exc)) from None
    except PeerConflict as exc:
        raise _field(409, "card", str(exc)) from None
    except NoIdentity as exc:
        raise Problem(409, str(exc)) from None
    peer = registered.peer
    node.audit(
        caller,
        "admin",
        peer.node_id,
        change="add peer",
        via="api",
        name=peer.name,
        url=peer.url,
        pull=peer.pull,
        push=peer.push,
        community=peer.community,
    )
    added = peer.describe() | {"account": registered.account, "account_key": registered.key}
    return JSONResponse(added, status_code=201)


@router.delete("/peers/{name:peer_name}", status_code=204, responses=ERRORS)
def remove(request: Request, name: str, caller: Annotated[Caller, Depends(caller_of)]) -> Response:
    """Forget a peer and its cursors (what it sent stays; its account here is disabled
    separately, as a user's)."""
    caller.require(Role.ADMIN)
    node = node_of(request)
    try:
        peer = node.store.peers.remove(name)
    except PeerNotFound as exc:
        raise Problem(404, str(exc)) from None
    node.audit(caller, "admin", peer.node_id, change="remove peer", via="api", name=peer.name)
    return Response(status_code=204)


def _run(request: Request, name: str, caller: Caller, direction: str) -> JSONResponse:
    caller.require(Role.ADMIN)
    node = node_of(request)
    try:
        peer = node.store.peers.get(name)
    except PeerNotFound as exc:
        raise Problem(404, str(exc)) from None
    node.audit(caller, "admin", peer.node_id, change=f"{direction} peer", via="api", name=name)
    report = run(node.store, peer, direction)
    if report.error == BUSY:
        raise Problem(409, f"peer {name!r}: {BUSY}; try again when that run ends")
    return JSONResponse(report.as_json())


@router.post("/peers/{name:peer_name}/pull", response_model=SyncReportOut, responses=ERRORS)
def pull_now(
    request: Request, name: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """Pull now what the peer added since the last pull (resumes where it stopped). The
    run's own failure (the peer unreachable, objects refused) is in the report's ``error``
    and in the peer's status."""
    return _run(request, name, caller, PULL)


@router.post("/peers/{name:peer_name}/push", response_model=SyncReportOut, responses=ERRORS)
def push_now(
    request: Request, name: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """Push now what may cross to the peer and was stored since the last push."""
    return _run(request, name, caller, PUSH)
