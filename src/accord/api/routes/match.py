"""POST /match: a remote sensor's values or log lines against everything its organisation may
see, the matching of `accord match` over HTTP (docs/matching.md).

    Content-Type: application/json    {"values": ["a.evil.example", "198.51.100.7", ...]}
    -> {"checked": 2, "hits": [{"index", "value", "kind", "indicators": [...]}],
        "problems": [{"index", "reason"}], "benign_left_out": 0}

    Content-Type: text/plain (or application/x-ndjson)   ?format=zeek|suricata-eve|...|auto
    -> {"format", "bytes", "lines", "values", "hit_count", "hits": [{"line", "offset", "field",
        "value", "kind", "indicators": [...]}], "problems": [{"line", "offset", "reason"}], ...}

- Who: an API key (never anonymous). The matcher is the caller's: compiled through the store's
  visibility rule (`accord.intel.viewer_matcher`, the same as the command's), held in memory
  per viewer while the store does not move (`accord.api.matchers`).
- Bodies: at most `MAX_BODY_BYTES` as sent; gzip (``Content-Encoding: gzip``, or a gzip file
  posted as it is) decompressed as it is read, to at most `MAX_DECODED_BYTES`
  (`accord.api.bounded_body`): past either, 413. At most `MAX_VALUES` values (413). A value
  that is no observable, a log line that cannot be read: reported by index or line number,
  matching goes on.
- ``include_benign``: hits on warninglisted or allowlisted indicators too, flagged. ``sight``:
  one sighting per indicator hit (count = its hits, where sighted = the caller's
  organisation; ``anonymous``: nobody), as ``accord match --sight`` posts them
  (`accord.ingest.sightings.post_tallies`).
- Audit: every call, action ``match``, ``answered_by`` the indicators hit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from accord.api.auth import Caller
from accord.api.bounded_body import (
    BoundedGunzip,
    DecodedTooLarge,
    is_gzip,
    read_body,
    too_large,
)
from accord.api.context import Node, caller_of, node_of
from accord.api.problems import Problem, invalid, json_object
from accord.api.routes.objects import ERRORS
from accord.ingest.sightings import SightingTally, post_tallies
from accord.intel.benign import BenignLists
from accord.match.logs import FORMATS, FieldSpec, LogFormatError, LogSource, parse_field_map
from accord.match.matcher import Hit, Matcher
from accord.match.scan import HitReport, ScanOptions, hit_json, scan_source
from accord.model.observable_types import ObservableError
from accord.model.observables import parse_query
from accord.model.roles import Role

router = APIRouter(tags=["match"])

MAX_BODY_BYTES: Final = 16 * 1024 * 1024
"""A request's body as sent (compressed or not)."""
MAX_DECODED_BYTES: Final = 64 * 1024 * 1024
"""A gzip body once decompressed."""
MAX_VALUES: Final = 100_000
"""Values of the JSON form."""
MAX_VALUE: Final = 8192
"""Characters of one value (as the look-up's)."""
MAX_HITS: Final = 100_000
"""Hits answered for log lines; more are counted (`hit_count`) and tallied, not listed."""
MAX_PROBLEMS: Final = 1000
"""Bad values or lines listed; more are counted."""

JSON: Final = "application/json"
LINE_TYPES: Final = ("text/plain", "application/x-ndjson")
SIGHTERS: Final = (Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST, Role.SENSOR)
"""Who may post sightings (as ``POST /sightings``)."""

_INDICATOR_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "tlp": {"type": "string"},
        "relation": {
            "type": "string",
            "enum": [
                "exact",
                "cidr",
                "parent-domain",
                "url-prefix",
                "url-host",
                "email-domain",
                "pattern",
            ],
        },
        "via": {"type": "string"},
        "benign": {"type": "boolean"},
    },
}
_HIT_SCHEMA = {
    "type": "object",
    "properties": {
        "index": {"type": "integer", "description": "values: the value's index"},
        "line": {"type": "integer", "description": "log lines: the line's number (from 1)"},
        "offset": {"type": "integer", "description": "log lines: the line's byte offset"},
        "field": {"type": "string", "description": "log lines: the field, as the format names it"},
        "value": {"type": "string"},
        "kind": {"type": "string"},
        "indicators": {"type": "array", "items": _INDICATOR_SCHEMA},
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "checked": {"type": "integer", "description": "values: how many were given"},
        "format": {"type": "string", "description": "log lines: the format read"},
        "bytes": {"type": "integer"},
        "lines": {"type": "integer"},
        "values": {"type": "integer", "description": "log lines: candidate values tested"},
        "hit_count": {"type": "integer"},
        "hits": {"type": "array", "items": _HIT_SCHEMA},
        "hits_left_out": {"type": "integer"},
        "benign_left_out": {"type": "integer"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "line": {"type": "integer"},
                    "offset": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
        },
        "problem_count": {"type": "integer"},
        "sightings_posted": {"type": "integer"},
    },
}
REQUEST_CONTENT = {
    JSON: {
        "schema": {
            "type": "object",
            "required": ["values"],
            "additionalProperties": False,
            "properties": {
                "values": {
                    "type": "array",
                    "maxItems": MAX_VALUES,
                    "items": {"type": "string"},
                    "description": "addresses, networks, domains, URLs, e-mail addresses, hashes",
                }
            },
        }
    },
    "text/plain": {"schema": {"type": "string", "description": "log lines, plain or gzip"}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "JSON lines"}},
}
MATCH_ERRORS = {
    **ERRORS,
    415: {"model": ERRORS[400]["model"], "content": {"application/problem+json": {}}},
}


@dataclass(frozen=True, slots=True)
class MatchRequest:
    media: str
    body: bytes
    gzip: bool
    format: str
    fields: tuple[FieldSpec, ...] | None
    include_benign: bool
    sight: bool
    anonymous: bool


@dataclass(slots=True)
class _Tallies:
    """The indicators hit, for the audit and the sightings."""

    seen_at: str
    by_id: dict[str, SightingTally] = field(default_factory=dict)

    def add(self, hits: list[Hit]) -> None:
        for hit in hits:
            tally = self.by_id.get(hit.target.id)
            if tally is None:
                tally = self.by_id[hit.target.id] = SightingTally(hit.target.name, hit.target.tlp)
            tally.seen(self.seen_at)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _media(request: Request) -> str:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != JSON and media not in LINE_TYPES:
        shown = media or "none"
        raise Problem(
            415,
            f'Content-Type {shown!r} is not taken: send application/json ({{"values": [...]}}) '
            f"or log lines as {', '.join(LINE_TYPES)}",
        )
    return media


def _gzip(request: Request, body: bytes) -> bool:
    """Whether the body is gzip: said by ``Content-Encoding``, or a gzip file posted as is."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        if not is_gzip(body):
            raise Problem(400, "Content-Encoding says gzip, but the body is not gzip")
        return True
    if encoding not in ("", "identity"):
        raise Problem(415, f"Content-Encoding {encoding!r} is not taken: send gzip or nothing")
    return is_gzip(body)


def _decoded(request: MatchRequest) -> bytes:
    if not request.gzip:
        return request.body
    try:
        return BoundedGunzip(request.body, MAX_DECODED_BYTES).read_all()
    except DecodedTooLarge as exc:
        raise too_large(str(exc), MAX_DECODED_BYTES) from None
    except OSError as exc:
        raise Problem(400, f"the body is not valid gzip: {exc}") from None


def _values(body: bytes) -> list[str]:
    document = json_object(body, '{"values": [...]}')
    unknown = sorted(set(document) - {"values"})
    if unknown:
        raise invalid(f"/{unknown[0]}", "unknown field (values)")
    values = document.get("values")
    if not isinstance(values, list):
        raise invalid("/values", "required: a list of values")
    if len(values) > MAX_VALUES:
        raise Problem(
            413,
            f"/values: {len(values):,} values; a match takes at most {MAX_VALUES:,}",
            [{"pointer": "/values", "detail": f"at most {MAX_VALUES:,} values"}],
        )
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise invalid(f"/values/{index}", "must be a string")
    return values


def _match_values(
    matcher: Matcher, values: list[str], include_benign: bool, tallies: _Tallies
) -> dict[str, Any]:
    hits: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    problem_count = 0
    benign_left_out = 0
    for index, value in enumerate(values):
        reason = None
        if len(value) > MAX_VALUE:
            reason = f"longer than {MAX_VALUE} characters"
        elif "\x00" in value:
            reason = "holds a NUL byte (U+0000)"
        else:
            try:
                observable = parse_query(value)
            except ObservableError as exc:
                reason = str(exc)
        if reason is not None:
            problem_count += 1
            if len(problems) < MAX_PROBLEMS:
                problems.append({"index": index, "reason": reason})
            continue
        found = matcher.value_hits(observable)
        if not include_benign:
            kept = [hit for hit in found if not hit.target.benign]
            benign_left_out += len(found) - len(kept)
            found = kept
        if found:
            tallies.add(found)
            hits.append(
                {
                    "index": index,
                    "value": value,
                    "kind": observable.kind,
                    "indicators": [hit_json(hit) for hit in found],
                }
            )
    return {
        "checked": len(values),
        "hits": hits,
        "problems": problems,
        "problem_count": problem_count,
        "benign_left_out": benign_left_out,
    }


def _match_lines(matcher: Matcher, request: MatchRequest, tallies: _Tallies) -> dict[str, Any]:
    hits: list[dict[str, Any]] = []
    count = 0

    def on_hit(report: HitReport) -> None:
        nonlocal count
        count += 1
        tallies.add(report.hits)
        if len(hits) < MAX_HITS:
            found = report.json()
            del found["file"]
            hits.append(found)

    stream = (
        BoundedGunzip(request.body, MAX_DECODED_BYTES) if request.gzip else io.BytesIO(request.body)
    )
    options = ScanOptions(request.format, request.fields, request.include_benign, workers=1)
    try:
        with LogSource(stream, "body") as source:
            if source.compressed:
                # What the log reader would inflate, unbounded: refused.
                raise Problem(400, "the body holds gzip inside gzip: compress it once")
            stats = scan_source(source, matcher, options, on_hit)
    except DecodedTooLarge as exc:
        raise too_large(str(exc), MAX_DECODED_BYTES) from None
    except OSError as exc:  # a gzip body that breaks off where it is read in batches
        raise Problem(400, f"the body is not valid gzip: {exc}") from None
    except LogFormatError as exc:
        pointer = "/query/fields" if request.fields is not None else "/query/format"
        raise invalid(pointer, str(exc)) from None
    return {
        "format": stats.format,
        "bytes": stats.bytes,
        "lines": stats.lines,
        "values": stats.values,
        "hit_count": count,
        "hits": hits,
        "hits_left_out": count - len(hits),
        "benign_left_out": stats.benign_skipped,
        "problems": [
            {
                "line": problem.location.line,
                "offset": problem.location.offset,
                "reason": problem.reason,
            }
            for problem in stats.problems[:MAX_PROBLEMS]
        ],
        "problem_count": stats.problem_count,
    }


def _match(node: Node, caller: Caller, request: MatchRequest) -> bytes:
    lists = node.lookups.lists or BenignLists(node.store, None)
    values = _values(_decoded(request)) if request.media == JSON else None
    tallies = _Tallies(_now())
    with node.matchers.matching(node.store, node.settings, lists, caller.viewer) as matcher:
        if values is not None:
            answer = _match_values(matcher, values, request.include_benign, tallies)
        else:
            answer = _match_lines(matcher, request, tallies)
    if request.sight:
        user = caller.require(*SIGHTERS)
        posted = post_tallies(
            node.store, user, tallies.by_id, request.anonymous, node.settings.default_tlp
        )
        answer["sightings_posted"] = posted.posted
    node.audit(
        caller,
        "match",
        None,
        via="POST /api/v1/match",
        form="values" if values is not None else "lines",
        format=answer.get("format"),
        checked=answer["checked"] if values is not None else answer["lines"],
        hits=len(answer["hits"]) if values is not None else answer["hit_count"],
        sighted=request.sight,
        answered_by=sorted(tallies.by_id),
    )
    return orjson.dumps(answer)


@router.post(
    "/match",
    responses={200: {"content": {JSON: {"schema": ANSWER_SCHEMA}}}, **MATCH_ERRORS},
    summary="Match values or log lines against everything you may see",
    description=(
        "The matching of `accord match` for remote sensors (docs/matching.md). A JSON body "
        '`{"values": [...]}` (at most '
        f"{MAX_VALUES:,}; each value's kind detected as the look-up does): the hits by index, "
        "and the values that are no observable. Log lines as `text/plain` (or "
        "`application/x-ndjson`) with `format` (docs/logs.md; `fields` for csv and jsonl): "
        "the hits by line number and field, as `accord match` prints them, and the lines "
        "that could not be read. Hits name the indicators with their TLP and how they "
        "matched (exact, cidr, parent-domain, url-prefix, url-host, email-domain, pattern). "
        f"Bodies: at most {MAX_BODY_BYTES // (1024 * 1024)} MiB as sent; gzip "
        "(`Content-Encoding: gzip`, or a gzip file as is) up to "
        f"{MAX_DECODED_BYTES // (1024 * 1024)} MiB decompressed; 413 past either. "
        "`sight=true` posts one sighting per indicator hit (needs the role to post "
        "sightings). Audited as `match`."
    ),
    openapi_extra={"requestBody": {"required": True, "content": REQUEST_CONTENT}},
)
async def match(
    request: Request,
    caller: Annotated[Caller, Depends(caller_of)],
    format_name: Annotated[
        str,
        Query(
            alias="format",
            description="log lines: their format (auto: from the first lines)",
            json_schema_extra={"enum": list(FORMATS)},
        ),
    ] = "auto",
    fields: Annotated[
        str | None,
        Query(
            description="log lines in csv or jsonl: NAME=PATH[:ROLE],... (docs/logs.md)",
            max_length=4096,
        ),
    ] = None,
    include_benign: Annotated[
        bool, Query(description="also hits on warninglisted or allowlisted indicators, flagged")
    ] = False,
    sight: Annotated[
        bool, Query(description="post one sighting per indicator hit (count = its hits)")
    ] = False,
    anonymous: Annotated[
        bool, Query(description="with sight: sightings that do not name your organisation")
    ] = False,
) -> Response:
    node = node_of(request)
    media = _media(request)
    if sight:
        caller.require(*SIGHTERS)
    elif anonymous:
        raise invalid("/query/anonymous", "goes with sight=true")
    field_map = None
    if media == JSON:
        for name, given in (("format", format_name != "auto"), ("fields", fields is not None)):
            if given:
                raise invalid(f"/query/{name}", "applies to log lines, not to JSON values")
    else:
        if format_name not in FORMATS:
            raise invalid("/query/format", f"unknown format (known: {', '.join(FORMATS)})")
        if fields is not None:
            try:
                field_map = parse_field_map(fields)
            except LogFormatError as exc:
                raise invalid("/query/fields", str(exc)) from None
    body = await read_body(request, MAX_BODY_BYTES)
    matching = MatchRequest(
        media,
        body,
        _gzip(request, body),
        format_name,
        field_map,
        include_benign,
        sight,
        anonymous,
    )
    payload = await run_in_threadpool(_match, node, caller, matching)
    return Response(payload, media_type=JSON)
