"""This node's card (docs/federation.md): its STIX identity, its operator and the
organisations it hosts, each by STIX identity id. A peer node fetches it with the key it was
given (`accord peer add --url --key`); any member may read it too. Not public: which
organisations a node hosts is for its members and peers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from accord.api.auth import Caller
from accord.api.context import caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.store.node_identity import NoIdentity

router = APIRouter(tags=["federation"], route_class=JsonRoute)


@router.get("/node", responses=ERRORS)
def node_card(request: Request, caller: Annotated[Caller, Depends(caller_of)]) -> JSONResponse:
    """The node's card: identity, operator, hosted organisations."""
    del caller  # any authenticated caller
    try:
        card: dict[str, Any] = node_of(request).store.identity.card()
    except NoIdentity:
        raise Problem(404, "this node has no identity yet (accord node init)") from None
    return JSONResponse(card)
