"""POST /sightings: the caller's organisation saw a value or an indicator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from accord.api.auth import Caller
from accord.api.context import caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS, _tlp
from accord.api.schemas import SightingIn, SightingOut
from accord.ingest.sighting_reports import ReportRefused, report_sighting
from accord.ingest.sightings import SightingRequest
from accord.model.roles import Role

router = APIRouter(tags=["sightings"], route_class=JsonRoute)


@router.post(
    "/sightings",
    response_model=SightingOut,
    responses=ERRORS,
    status_code=201,
    summary="Report that your organisation saw a value or an indicator",
)
def post_sighting(
    request: Request, body: SightingIn, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    user = caller.require(Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST, Role.SENSOR)
    node = node_of(request)
    sighting = SightingRequest(
        body.count,
        body.first_seen,
        body.last_seen,
        _tlp(body.tlp),
        kind=body.kind,
        anonymous=body.anonymous,
    )
    try:
        done = report_sighting(
            node.store,
            user,
            caller.viewer,
            sighting,
            node.settings.default_tlp,
            value=body.value,
            indicator=body.indicator,
        )
    except ReportRefused as exc:
        status = 404 if exc.missing else 422
        errors = [{"pointer": "/" + exc.field, "detail": "not found" if exc.missing else str(exc)}]
        raise Problem(status, str(exc), errors if exc.field else None) from None
    return JSONResponse({"created": done.created, "sighted": done.sighted}, status_code=201)
