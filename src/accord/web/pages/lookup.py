"""The home page: the look-up. One box takes a value (defanged or not) or many pasted at once;
one value answers with its verdict card, many with a table of verdicts. Look-ups made here are
the node's look-ups (`accord.intel.lookup.service.LookupService`), audited exactly as the
API's; the card shows what the API answers, nothing more.

A sighting can be reported from the card ("seen", "false positive", anonymous or not),
through the same path as ``POST /api/v1/sightings`` (`accord.ingest.sighting_reports`).
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.ingest.sighting_reports import ReportRefused, report_sighting
from accord.ingest.sightings import SightingRequest
from accord.intel.value_history import ValueHistory, value_history
from accord.model.roles import Role
from accord.web.pages.common import is_htmx, page
from accord.web.portal import Portal, portal_of
from accord.web.visitors import PageError, Visitor, member, posted

router = APIRouter(include_in_schema=False)

MAX_VALUE = 8192  # characters in one value, as the API
MAX_VALUES = 1000  # values in one paste; the API and `accord lookup` take 10,000
MAX_TEXT = 1_000_000  # characters pasted
REPORTERS = (Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST, Role.SENSOR)
_SPLIT = re.compile(r"[\s,;]+")


def split_values(text: str) -> list[str]:
    """The values of a paste: one per line or separated by spaces, commas or semicolons,
    quotes around them dropped, each once, in order."""
    seen: dict[str, None] = {}
    for part in _SPLIT.split(text):
        value = part.strip().strip("\"'<>()[]{}")
        if value and value not in seen:
            seen[value] = None
    return list(seen)


async def _answer(portal: Portal, visitor: Visitor, value: str) -> dict[str, Any]:
    """One value's answer, once its audit entry is committed (awaited, as the API's GET
    /lookup does: other requests are served meanwhile)."""
    answer, recorded = portal.lookups.one_pending(visitor.viewer, value, None, visitor.user_id)
    await asyncio.wrap_future(recorded)
    return answer.as_json()


def _answers(portal: Portal, visitor: Visitor, values: list[str]) -> list[dict[str, Any]]:
    if len(values) == 1:
        return [portal.lookups.one(visitor.viewer, values[0], None, visitor.user_id).as_json()]
    body = portal.lookups.bulk(visitor.viewer, values, None, visitor.user_id, None)
    answers = orjson.loads(body)
    return list(answers["answers"] if isinstance(answers, dict) else answers)


def _history(
    portal: Portal, visitor: Visitor, answers: list[dict[str, Any]]
) -> ValueHistory | None:
    """One value's card also shows its sightings per day and the reporting organisations
    the reader may know by name (`accord.intel.value_history`), of the objects that
    answered."""
    if len(answers) != 1 or not answers[0].get("reasons"):
        return None
    ids = [str(reason["id"]) for reason in answers[0]["reasons"]]
    return value_history(portal.store, visitor.viewer, ids)


async def _look_up(request: Request, visitor: Visitor, text: str) -> Response:
    error = None
    values: list[str] = []
    if len(text) > MAX_TEXT:
        error = "too-much-text"
    else:
        values = split_values(text)
        if not values:
            error = "empty"
        elif len(values) > MAX_VALUES:
            error = "too-many-values"
        elif any(len(value) > MAX_VALUE or "\x00" in value for value in values):
            error = "value-too-long"
    answers: list[dict[str, Any]] = []
    history = None
    if error is None and len(values) == 1:
        # Inline, as the API's GET /lookup: one look-up is a few indexed queries, cheaper
        # than the hand-over to a thread and back (and so is the card's history).
        answers = [await _answer(portal_of(request), visitor, values[0])]
        history = _history(portal_of(request), visitor, answers)
    elif error is None:
        answers = await run_in_threadpool(_answers, portal_of(request), visitor, values)
    context = {
        "query": text if len(text) <= 20_000 else "",
        "answers": answers,
        "history": history,
        "error": error,
        "max_values": MAX_VALUES,
        "may_report": visitor.may(*REPORTERS),
        "reported": request.query_params.get("reported"),
    }
    status = 422 if error and error != "empty" else 200
    template = "lookup_answer.html" if is_htmx(request) else "lookup.html"
    return page(request, visitor, template, context, status)


async def home(request: Request) -> Response:
    """The home page, and a look-up of ``?q=``. A plain Starlette endpoint, as the API's
    GET /lookup is: FastAPI's dependency solving costs more than rendering the card."""
    visitor = await member(request)
    text = request.query_params.get("q")
    if text is None:
        return page(
            request,
            visitor,
            "lookup.html",
            {
                "query": "",
                "answers": [],
                "error": None,
                "max_values": MAX_VALUES,
                "may_report": visitor.may(*REPORTERS),
                "reported": request.query_params.get("reported"),
            },
        )
    return await _look_up(request, visitor, text)


router.add_route("/", home, methods=["GET"], include_in_schema=False)


@router.post("/lookup")
async def look_up(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    form = await posted(request, visitor)
    return await _look_up(request, visitor, str(form.get("q") or ""))


@router.post("/sightings")
async def report(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    """A sighting reported from the look-up card; back to the card with the outcome."""
    form = await posted(request, visitor)
    if not visitor.may(*REPORTERS):
        raise PageError(404, "not-found")
    value = str(form.get("value") or "")[:MAX_VALUE]
    kind = str(form.get("kind") or "seen")
    if kind not in ("seen", "false-positive"):
        raise PageError(422, "bad-form")
    sighting = SightingRequest(kind=kind, anonymous=form.get("anonymous") == "on")
    portal = portal_of(request)
    try:
        await run_in_threadpool(
            report_sighting,
            portal.store,
            visitor.account.user,
            visitor.viewer,
            sighting,
            portal.settings.default_tlp,
            value,
            None,
            "portal",
        )
    except ReportRefused:
        outcome = "refused"
    else:
        outcome = kind
    from urllib.parse import urlencode

    return RedirectResponse("/?" + urlencode({"q": value, "reported": outcome}), status_code=303)
