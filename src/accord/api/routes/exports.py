"""Exports that sensors poll: ``GET /api/v1/exports/{format}`` (``suricata``, ``zeek-intel``,
``rpz``, ``hosts``, ``csv``, ``stix``, ``misp``) and ``GET /api/v1/exports/suricata/{file}``
(the dataset and hash-list files the rules name). docs/exports.md.

- Who: an API key (never anonymous); the body is what the caller may see, read through the
  store's visibility rule (`accord.export.indicator_items`, `accord.export.stix`,
  `accord.export.misp_feed`).
- Caching: a strong ``ETag`` (SHA-256 of the body), ``Cache-Control: private, no-cache``
  and ``Vary: Authorization``. ``If-None-Match`` naming the current ETag gets a 304 without
  a body, and, while the state the ETag was made in holds (`accord.api.export_etags`),
  without building the export either.
- Work: the body is written into a spooled temporary file (in memory up to `SPOOL_BYTES`,
  then on disk) while its digest is taken, and sent from there.
- Audit: a 200 records the AMBER, AMBER+STRICT and RED indicators read
  (`accord.intel.read_audit`); a 304 sends nothing and records nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Final, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.export_etags import state_key, trust_until
from accord.api.problems import Problem
from accord.api.schemas import ProblemDoc
from accord.export import misp_feed
from accord.export.indicator_items import (
    BadExportQuery,
    ExportQuery,
    IndicatorExport,
    Tally,
    parse_since,
    parse_types,
)
from accord.export.sensors import formats, suricata
from accord.export.sensors.text import Heading
from accord.export.stix import export_bundle
from accord.intel.export_judge import ExportJudge
from accord.intel.read_audit import audit_read_ids
from accord.model.tlp import Tlp
from accord.store.records import StoredObject

SPOOL_BYTES: Final = 4 * 1024 * 1024
_CHUNK: Final = 64 * 1024
ALL_FORMATS: Final = (*formats.FORMATS, "stix", "misp")
JSON: Final = "application/json"
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ProblemDoc, "content": {"application/problem+json": {}}}
    for code in (401, 403, 404, 422, 429)
}

router = APIRouter(tags=["exports"])

Format = Literal["suricata", "zeek-intel", "rpz", "hosts", "csv", "stix", "misp"]
TypeParam = Annotated[
    list[str] | None,
    Query(
        description="Only these kinds, comma-separated or repeated (ipv4, ipv6, domain, url, "
        "email, md5, sha1, sha256, ...); for stix, STIX types"
    ),
]
SinceParam = Annotated[
    str | None,
    Query(description="only indicators modified or received since (RFC 3339 or YYYY-MM-DD)"),
]
MinScoreParam = Annotated[int | None, Query(ge=0, le=100, description="leave out lower scores")]
BenignParam = Annotated[
    bool, Query(description="keep values on benign warninglists or your allowlist")
]


class _Body:
    """A body as it is written: its digest, in a spooled file."""

    def __init__(self) -> None:
        self.file: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.digest = hashlib.sha256()
        self.size = 0

    def write_all(self, chunks: Iterable[str]) -> None:
        pending: list[bytes] = []
        held = 0
        for chunk in chunks:
            data = chunk.encode()
            pending.append(data)
            held += len(data)
            if held >= _CHUNK:
                self._write(b"".join(pending))
                pending, held = [], 0
        self._write(b"".join(pending))

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.size += len(data)

    @property
    def etag(self) -> str:
        return f'"{self.digest.hexdigest()}"'

    def chunks(self) -> Iterator[bytes]:
        try:
            self.file.seek(0)
            while chunk := self.file.read(_CHUNK):
                yield chunk
        finally:
            self.file.close()


# Writes a body; answers the tally (sensor formats), the AMBER+ ids read, the soonest
# valid_until among what it wrote, and how the audit names the read.
Build = Callable[["_Body"], tuple[Tally | None, Mapping[str, Tlp], str | None, str]]


def _matches(request: Request, etag: str) -> bool:
    """``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 section 13.1.2)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}


def _query(
    types: list[str] | None, since: str | None, min_score: int | None, benign: bool
) -> ExportQuery:
    try:
        return ExportQuery(parse_types(types or ()), parse_since(since), min_score, benign)
    except BadExportQuery as exc:
        raise Problem(
            422, str(exc), [{"pointer": f"/{exc.parameter}", "detail": exc.detail}]
        ) from None


def _state(node: Node, caller: Caller, *asked: str) -> bytes:
    store = node.store
    org = caller.viewer.org_id
    allowlist = [entry.id for entry in store.allowlists.entries(org)] if org else []
    return state_key(caller.viewer, store.indicator_values.newest_seq(), allowlist, *asked)


def _answer(
    request: Request,
    node: Node,
    caller: Caller,
    state: bytes,
    media_type: str,
    build: Build,
) -> Response:
    """304 from the remembered ETag, else build the body (``build``: writes it, answers the
    tally, the AMBER+ ids read and the soonest expiry) and answer 200 or 304."""
    etags = node.export_etags
    known = etags.known(state)
    if known is not None and _matches(request, known):
        return Response(status_code=304, headers=_headers(known))
    body = _Body()
    etags.builds += 1
    tally, sensitive, next_expiry, via = build(body)
    etag = body.etag
    etags.remember(state, etag, trust_until(next_expiry))
    headers = _headers(etag)
    if _matches(request, etag):
        body.file.close()
        return Response(status_code=304, headers=headers)
    user_id = caller.user.id if caller.user else None
    audit_read_ids(node.store, caller.viewer, user_id, sensitive, via)
    headers["Content-Length"] = str(body.size)
    if tally is not None:
        headers["Accord-Exported"] = str(tally.exported)
        if tally.left_out:
            headers["Accord-Left-Out"] = tally.header_value()
    return StreamingResponse(body.chunks(), media_type=media_type, headers=headers)


def _sensor_build(
    request: Request, node: Node, caller: Caller, format: str, query: ExportQuery, file: str | None
) -> Build:
    def build(body: _Body) -> tuple[Tally, dict[str, Tlp], str | None, str]:
        now = datetime.now(UTC)
        viewer = caller.viewer
        lists = node.lookups.lists
        export = IndicatorExport(
            node.store,
            viewer,
            formats.for_format(format, query),
            ExportJudge.for_viewer(lists, viewer, now),
            now,
        )
        who = caller.user.email if caller.user else (viewer.org_id or "")
        heading = Heading(format, who, node.store.indicator_values.newest_visible_seq(viewer))
        if file is None:
            link_base = str(request.base_url).rstrip("/")
            body.write_all(formats.render(format, export.items(), export.tally, heading, link_base))
            via = f"GET /exports/{format}"
        else:
            body.write_all(formats.suricata_list(file, export.items(), export.tally, heading))
            via = "GET /exports/suricata/{file}"
        return export.tally, export.tally.sensitive, export.tally.next_expiry, via

    return build


@router.get(
    "/exports/{format}",
    responses={**ERRORS, 304: {"description": "not modified: If-None-Match named the ETag"}},
    summary="What you may see, in a format a sensor loads",
    description=(
        "Suricata rules, a Zeek Intel Framework file, an RPZ zone, a hosts file, CSV, one "
        "STIX 2.1 bundle, or MISP events. Poll with `If-None-Match`: an unchanged export "
        "answers 304 without a body. docs/exports.md."
    ),
    response_class=Response,
)
def get_export(
    request: Request,
    format: Format,
    caller: Annotated[Caller, Depends(caller_of)],
    type: TypeParam = None,
    since: SinceParam = None,
    min_score: MinScoreParam = None,
    include_benign: BenignParam = False,
) -> Response:
    node = node_of(request)
    caller.require()
    if format == "stix":
        types = sorted({t.strip() for text in type or () for t in text.split(",") if t.strip()})
        state = _state(node, caller, "stix", *types)
        return _answer(request, node, caller, state, JSON, _stix_build(node, caller, types, state))
    if format == "misp":
        state = _state(node, caller, "misp")
        return _answer(request, node, caller, state, JSON, _misp_build(node, caller))
    query = _query(type, since, min_score, include_benign)
    state = _state(node, caller, format, "", query.key().decode(), str(request.base_url))
    return _answer(
        request,
        node,
        caller,
        state,
        formats.MEDIA_TYPES[format],
        _sensor_build(request, node, caller, format, query, None),
    )


@router.get(
    "/exports/suricata/{file}",
    responses={**ERRORS, 304: {"description": "not modified: If-None-Match named the ETag"}},
    summary="A list file that the Suricata rules name (dataset or file hashes)",
    response_class=Response,
)
def get_suricata_list(
    request: Request,
    file: str,
    caller: Annotated[Caller, Depends(caller_of)],
    type: TypeParam = None,
    since: SinceParam = None,
    min_score: MinScoreParam = None,
    include_benign: BenignParam = False,
) -> Response:
    node = node_of(request)
    caller.require()
    if file not in suricata.LIST_FILES:
        known = ", ".join(sorted(suricata.LIST_FILES))
        raise Problem(404, f"no list file {file!r} here: the rules name {known}")
    query = _query(type, since, min_score, include_benign)
    state = _state(node, caller, "suricata", file, query.key().decode())
    return _answer(
        request,
        node,
        caller,
        state,
        formats.TEXT,
        _sensor_build(request, node, caller, "suricata", query, file),
    )


def _stix_build(node: Node, caller: Caller, types: list[str], state: bytes) -> Build:
    def build(body: _Body) -> tuple[None, dict[str, Tlp], None, str]:
        sensitive: dict[str, Tlp] = {}

        def read(stored: StoredObject) -> None:
            if stored.tlp >= Tlp.AMBER:
                sensitive[stored.id] = stored.tlp

        # The bundle's id follows the state, so that an unchanged store gives the same bytes.
        bundle_id = f"bundle--{uuid.UUID(bytes=state[:16], version=4)}"
        body.write_all(export_bundle(node.store, caller.viewer, types, read, bundle_id))
        return None, sensitive, None, "GET /exports/stix"

    return build


def _misp_build(node: Node, caller: Caller) -> Build:
    def build(body: _Body) -> tuple[None, dict[str, Tlp], None, str]:
        sensitive: dict[str, Tlp] = {}

        def events() -> Iterator[str]:
            yield '{"response":['
            first = True
            for stored in misp_feed.reports(node.store, caller.viewer):
                made = misp_feed.feed_event(node.store, caller.viewer, stored)
                for source in made.sources:
                    if source.tlp >= Tlp.AMBER:
                        sensitive[source.id] = source.tlp
                yield ("" if first else ",") + orjson.dumps(made.event).decode()
                first = False
            yield "]}\n"

        body.write_all(events())
        return None, sensitive, None, "GET /exports/misp"

    return build
