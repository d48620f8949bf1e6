"""GET /health: that the process answers (the floor the look-up benchmark compares with)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from accord.api.jsonbody import JsonRoute
from accord.api.responses import JSONResponse

router = APIRouter(tags=["health"], route_class=JsonRoute)


class Health(BaseModel):
    status: str


@router.get("/health", response_model=Health, summary="The node answers")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
