"""GET /objects/{id}/correlations: the objects that share an observable with one you may see.

Both ends of every correlation are visible to the caller (the store applies the rule to both
in its query); values on the node's warninglists or the caller organisation's allowlist do not
correlate; an over-correlating value is counted from what the caller may see, not listed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from accord.api.auth import Caller
from accord.api.context import caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.store.correlation.read import Correlations

router = APIRouter(tags=["correlations"], route_class=JsonRoute)


class CorrelationDoc(BaseModel):
    id: str
    type: str
    name: str | None
    tlp: str
    relation: str = Field(
        description="same-value, cidr, contains, parent-domain, subdomain, url-host, host, "
        "same-file or similar: how this object's value relates to the other's"
    )
    value: str = Field(description="this object's observable")
    other_value: str = Field(description="the other object's observable")
    similarity: int | None = Field(default=None, description="fuzzy hashes: 0-100")


class OverCorrelationDoc(BaseModel):
    value: str
    count: int = Field(description="objects you may see that this value joins")


class CorrelationsDoc(BaseModel):
    id: str
    correlations: list[CorrelationDoc]
    over_correlating: list[OverCorrelationDoc] = Field(
        description="values joining more objects than the node's cap: counted, not listed"
    )
    truncated: bool


@router.get(
    "/objects/{object_id}/correlations",
    response_model=CorrelationsDoc,
    responses=ERRORS,
    summary="Objects that share an observable with this one, as far as you may see both",
)
def get_correlations(
    request: Request,
    object_id: str,
    caller: Annotated[Caller, Depends(caller_of)],
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> JSONResponse:
    node = node_of(request)
    found = Correlations(node.store.engine).of_object(
        caller.viewer, object_id, node.exclude(), limit
    )
    if found is None:
        raise Problem(404, f"no object {object_id} that you may see")
    node.audit_reads(
        caller, [found.obj, *(c.obj for c in found.correlations)], "GET /objects/{id}/correlations"
    )
    return JSONResponse(found.as_json())
