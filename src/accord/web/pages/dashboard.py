"""The dashboard: what the reader's organisation may see of the node at a glance
(`accord.intel.overview`): objects by type and TLP level, objects added and sightings per day
over 90 days (charts drawn by uPlot from a JSON block, and the same numbers as a table, so the
page reads without JavaScript), the values most objects share, the organisation's own most
looked-up values, and its feeds' pulls (every feed of the node for its admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.intel.overview import LOOKUP_DAYS, WINDOW_DAYS, Overview, overview
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.web.pages.common import page
from accord.web.portal import Portal, portal_of
from accord.web.visitors import Visitor, member

router = APIRouter(include_in_schema=False)


def _overview(portal: Portal, visitor: Visitor) -> Overview:
    return overview(
        portal.store,
        visitor.viewer,
        visitor.user_id,
        every_feed=visitor.may(Role.ADMIN),
        exclude=portal.lookups.exclude,
    )


@router.get("/dashboard")
async def dashboard(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    portal = portal_of(request)
    found = await run_in_threadpool(_overview, portal, visitor)
    return page(
        request,
        visitor,
        "dashboard.html",
        {
            "overview": found,
            "levels": list(Tlp),
            "window_days": WINDOW_DAYS,
            "lookup_days": LOOKUP_DAYS,
            "now": found.now,
            "every_feed": visitor.may(Role.ADMIN),
        },
    )
