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
from accord.ingest.sightings import SightingError, SightingRequest, record_sighting
from accord.intel.lookup.answer import parse_query
from accord.model.observables import ObservableError
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
    if (body.value is None) == (body.indicator is None):
        raise Problem(
            422,
            "give either value or indicator",
            [{"pointer": "/value", "detail": "give either value or indicator"}],
        )
    observable = None
    indicators: list[str] = []
    if body.indicator is not None:
        found = node.store.objects.get(caller.viewer, body.indicator)
        if found is None or found.type != "indicator":
            raise Problem(
                404,
                f"no indicator {body.indicator} that you may see",
                [{"pointer": "/indicator", "detail": "not found"}],
            )
        indicators = [found.id]
    else:
        assert body.value is not None
        try:
            observable = parse_query(body.value)
        except ObservableError as exc:
            raise Problem(422, str(exc), [{"pointer": "/value", "detail": str(exc)}]) from None
        matches = node.store.index.search(caller.viewer, observable)
        indicators = sorted(
            {m.obj.id for m in matches if m.relation == "exact" and m.obj.type == "indicator"}
        )
    sighting = SightingRequest(
        body.count,
        body.first_seen,
        body.last_seen,
        _tlp(body.tlp),
        kind=body.kind,
        anonymous=body.anonymous,
    )
    try:
        report, created, sighted = record_sighting(
            node.store, user, sighting, indicators, observable, node.settings.default_tlp
        )
    except SightingError as exc:
        raise Problem(422, str(exc), [{"pointer": "/first_seen", "detail": str(exc)}]) from None
    if not report.ok:
        reasons = "; ".join(o.describe() for o in report.objects if o.status == "rejected")
        raise Problem(422, f"the sighting could not be stored: {reasons}")
    node.audit(caller, "write", sighted[0] if sighted else None, sighting=created)
    return JSONResponse({"created": created, "sighted": sighted}, status_code=201)
