"""POST /patterns/match: observed-data against one STIX pattern, or against every indicator
the caller may see (`accord.match.indicator_match`, docs/patterns.md).

    {"pattern": "[url:value MATCHES '...']", "stix_version": "2.1", "observed_data": [...]}
    -> {"matched": true, "matched_observed_data_ids": ["observed-data--..."]}

    {"stix_version": "2.1", "observed_data": [...]}
    -> {"matched_indicators": [{"id", "name", "pattern", "tlp", "matched_observed_data_ids"}]}

``observed_data``: STIX 2.0 observed-data with their `objects`, or STIX 2.1 observed-data with
`object_refs` and the SCOs beside them in the list (or bundles of them). A pattern or
observation that cannot be evaluated answers 422 naming where (line and column, or
``observed_data[i]``). Each call is audited as a look-up is, before the answer is sent: who,
the pattern (if any), how many observed-data, and which indicators answered.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem, invalid, json_object
from accord.api.routes.objects import ERRORS
from accord.match.indicator_match import load, match_indicators, match_pattern
from accord.match.patterns import PatternEvaluationError, PatternSyntaxError

router = APIRouter(tags=["patterns"], route_class=JsonRoute)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""A match request's body: observations of a case or a sensor's batch, not a data set."""
MAX_OBSERVED_DATA = 1000
"""Items of ``observed_data`` (observed-data, SCOs, bundles)."""
MAX_PATTERN = 16_384
"""Characters of ``pattern``."""

_WHERE = re.compile(r"observed_data\[(\d+)\]((?:\.objects\[\d+\])?)")

REQUEST_SCHEMA = {
    "type": "object",
    "required": ["observed_data"],
    "additionalProperties": False,
    "properties": {
        "pattern": {
            "type": "string",
            "maxLength": MAX_PATTERN,
            "description": "a STIX pattern; absent: every indicator you may see",
        },
        "stix_version": {"type": "string", "enum": ["2.0", "2.1"], "default": "2.1"},
        "observed_data": {
            "type": "array",
            "maxItems": MAX_OBSERVED_DATA,
            "items": {"type": "object"},
            "description": (
                "2.0 observed-data with their objects, or 2.1 observed-data with object_refs "
                "and the SCOs beside them"
            ),
        },
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "matched": {"type": "boolean"},
        "matched_observed_data_ids": {"type": "array", "items": {"type": ["string", "null"]}},
        "matched_indicators": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "pattern": {"type": "string"},
                    "tlp": {"type": "string"},
                    "matched_observed_data_ids": {
                        "type": "array",
                        "items": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
}


def _read(body: bytes) -> tuple[str | None, str, list[Any]]:
    """(pattern, STIX version, observed_data) from the body, or the problem naming where."""
    if len(body) > MAX_BODY_BYTES:
        raise Problem(
            413,
            f"the body is {len(body)} bytes; a match takes at most {MAX_BODY_BYTES}",
            [{"pointer": "/", "detail": f"at most {MAX_BODY_BYTES} bytes"}],
        )
    document = json_object(body)
    unknown = sorted(set(document) - {"pattern", "stix_version", "observed_data"})
    if unknown:
        raise invalid(f"/{unknown[0]}", "unknown field (pattern, stix_version, observed_data)")
    pattern = document.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise invalid("/pattern", "must be a non-empty string")
        if len(pattern) > MAX_PATTERN:
            raise invalid("/pattern", f"at most {MAX_PATTERN} characters, not {len(pattern)}")
    version = document.get("stix_version", "2.1")
    if version not in ("2.0", "2.1"):
        raise invalid("/stix_version", 'must be "2.0" or "2.1"')
    observed = document.get("observed_data")
    if not isinstance(observed, list):
        raise invalid("/observed_data", "required: a list of observed-data (and SCOs)")
    if len(observed) > MAX_OBSERVED_DATA:
        raise Problem(
            413,
            f"/observed_data: {len(observed)} items; a match takes at most {MAX_OBSERVED_DATA}",
            [{"pointer": "/observed_data", "detail": f"at most {MAX_OBSERVED_DATA} items"}],
        )
    return pattern, version, observed


def _evaluation_problem(exc: PatternEvaluationError) -> Problem:
    """422 naming the observed-data the message names, else the pattern."""
    message = str(exc)
    where = _WHERE.search(message)
    if where is None:
        return invalid("/pattern", message)
    pointer = f"/observed_data/{where.group(1)}"
    if where.group(2):
        pointer += "/objects/" + where.group(2).rsplit("[", 1)[1].rstrip("]")
    return invalid(pointer, message)


def _match(node: Node, caller: Caller, body: bytes) -> bytes:
    pattern, version, observed = _read(body)
    if pattern is not None:
        try:
            result = match_pattern(pattern, version, observed)
        except PatternSyntaxError as exc:
            raise invalid("/pattern", str(exc), line=exc.line, column=exc.column) from None
        except PatternEvaluationError as exc:
            raise _evaluation_problem(exc) from None
        node.audit(
            caller,
            "pattern-match",
            None,
            pattern=pattern,
            observed_data=len(observed),
            matched=result.matched,
        )
        return orjson.dumps(
            {"matched": result.matched, "matched_observed_data_ids": result.observed_data_ids}
        )
    try:
        loaded = load(observed, version)
    except PatternEvaluationError as exc:
        raise _evaluation_problem(exc) from None
    found = match_indicators(node.store, node.lookups.patterns, caller.viewer, loaded)
    node.audit(
        caller,
        "pattern-match",
        None,
        observed_data=len(observed),
        answered_by=[indicator.id for indicator in found],
    )
    return orjson.dumps({"matched_indicators": [indicator.as_json() for indicator in found]})


@router.post(
    "/patterns/match",
    responses={200: {"content": {"application/json": {"schema": ANSWER_SCHEMA}}}, **ERRORS},
    summary="Match observed-data against a STIX pattern, or against every indicator you may see",
    description=(
        "With `pattern`: whether the observed-data match it, and which observed-data the match "
        "binds. Without: the indicators you may see whose STIX pattern the observed-data "
        "match (judged on the whole list, so FOLLOWEDBY, REPEATS and WITHIN work across "
        "observed-data). A pattern that does not parse answers 422 with its line and column; "
        "observed-data that cannot be read, 422 naming `observed_data[i]`. At most "
        f"{MAX_OBSERVED_DATA} items, a {MAX_BODY_BYTES // (1024 * 1024)} MiB body and "
        f"{MAX_PATTERN} characters of pattern. Audited as `pattern-match`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": REQUEST_SCHEMA}},
        }
    },
)
async def match(request: Request, caller: Annotated[Caller, Depends(caller_of)]) -> Response:
    node = node_of(request)
    body = await request.body()
    payload = await run_in_threadpool(_match, node, caller, body)
    return Response(payload, media_type="application/json")
