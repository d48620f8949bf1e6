"""The MISP feed: ``GET /misp-feed/manifest.json``, ``/misp-feed/<uuid>.json`` and
``/misp-feed/hashes.csv``, for a MISP instance that subscribes to this node (docs/misp.md).

- Who: the caller's API key, as ``Authorization: Bearer <key>`` or as the key alone (MISP's
  feed settings send the header as typed), through the node's `Authenticator`, so the limits on
  failed authentications apply. Never anonymous, even where look-ups are public.
- What: the caller's view, built by `accord.export.misp_feed` (reads only through
  ``store.objects`` with the caller's viewer). An event that is not stored and one the caller
  may not see get the same 404; so does any name that is not ``<uuid>.json``.
- Caching: a strong ``ETag`` (SHA-256 of the body) and ``Last-Modified`` (the newest
  ``modified`` or date added of the versions the document was made from, never later than
  now); ``If-None-Match`` (which wins, RFC 9110 section 13.2.2) or ``If-Modified-Since``
  answered with 304. ``Cache-Control: private, no-cache`` and ``Vary: Authorization``: each
  key gets its own document, which a shared cache must not hand to another.
- Work: the manifest and ``hashes.csv`` are written one event at a time into a spooled
  temporary file (in memory up to `SPOOL_BYTES`, then on disk) while their digest is taken,
  and sent from there: memory stays bounded however large the feed. The feed is made afresh
  on each request (MISP fetches the manifest once per pull).
- Audit: a 200 records the reads of AMBER, AMBER+STRICT and RED versions in it
  (`Node.audit_reads`, in entries of at most `AUDIT_CHUNK` ids); a 304 sends nothing new.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Annotated, Final

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from accord.api.auth import Caller
from accord.api.context import Node, node_of
from accord.api.problems import Problem
from accord.export import misp_feed
from accord.model.tlp import Tlp
from accord.store.records import StoredObject

PREFIX: Final = "/misp-feed"
SPOOL_BYTES: Final = 4 * 1024 * 1024
AUDIT_CHUNK: Final = 1000
_CHUNK: Final = 64 * 1024
_EVENT_NAME: Final = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json", re.IGNORECASE
)
_NOT_HERE: Final = "no such event in this MISP feed that you may see"

router = APIRouter(prefix=PREFIX, tags=["misp-feed"], include_in_schema=False)


def feed_caller(request: Request) -> Caller:
    """The caller, from ``Authorization: Bearer <key>`` or ``Authorization: <key>``."""
    return node_of(request).auth.caller(request, anonymous_ok=False, bare_key_ok=True)


FeedCaller = Annotated[Caller, Depends(feed_caller)]


@dataclass
class _Document:
    """A feed document as it is written: its digest, its newest version, and the AMBER and
    stricter versions read for it (without their text), in a spooled file."""

    media_type: str
    # Closed by `chunks` once sent, or by `_answer` for a 304.
    file: IO[bytes] = field(
        default_factory=lambda: SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    )
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    newest: str = ""
    sensitive: list[StoredObject] = field(default_factory=list)

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.size += len(data)

    def made_from(self, sources: list[StoredObject]) -> None:
        self.newest = max(self.newest, misp_feed.newest(sources))
        self.sensitive.extend(replace(s, raw="") for s in sources if s.tlp >= Tlp.AMBER)

    def chunks(self) -> Iterator[bytes]:
        try:
            self.file.seek(0)
            while chunk := self.file.read(_CHUNK):
                yield chunk
        finally:
            self.file.close()


def _http_date(key: str) -> tuple[str, datetime]:
    """A timestamp key as an HTTP date (whole seconds), never later than now."""
    now = datetime.now(UTC)
    try:
        when = datetime.strptime(key[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        when = now
    when = min(when, now).replace(microsecond=0)
    return format_datetime(when, usegmt=True), when


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """Whether the client's copy is current (RFC 9110 section 13.1.2 and 13.1.3): by
    ``If-None-Match`` (weak comparison) if sent, else by ``If-Modified-Since``."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = [tag.strip() for tag in match.split(",")]
        return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        asked = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # not a date: ignored, as RFC 9110 says
    if asked.tzinfo is None:
        return False
    return last_modified <= asked


def _answer(
    request: Request, node: Node, caller: Caller, document: _Document, via: str
) -> Response:
    """200 with the document, or 304: with its validators either way."""
    etag = f'"{document.digest.hexdigest()}"'
    date, when = _http_date(document.newest)
    headers = {
        "ETag": etag,
        "Last-Modified": date,
        "Cache-Control": "private, no-cache",
        "Vary": "Authorization",
    }
    if _not_modified(request, etag, when):
        document.file.close()
        return Response(status_code=304, headers=headers)
    for start in range(0, len(document.sensitive), AUDIT_CHUNK):
        node.audit_reads(caller, document.sensitive[start : start + AUDIT_CHUNK], via)
    headers["Content-Length"] = str(document.size)
    return StreamingResponse(document.chunks(), media_type=document.media_type, headers=headers)


@router.get("/manifest.json")
def get_manifest(request: Request, caller: FeedCaller) -> Response:
    """Event uuid -> summary, for every event the caller may see."""
    node = node_of(request)
    document = _Document("application/json")
    document.write(b"{")
    first = True
    for event_uuid, entry, sources in misp_feed.manifest_entries(node.store, caller.viewer):
        document.write((b"" if first else b",") + orjson.dumps(event_uuid) + b":")
        document.write(orjson.dumps(entry))
        document.made_from(sources)
        first = False
    document.write(b"}")
    return _answer(request, node, caller, document, "GET /misp-feed/manifest.json")


@router.get("/hashes.csv")
def get_hashes(request: Request, caller: FeedCaller) -> Response:
    """``md5(value),event uuid`` for every attribute value of every event the caller may
    see."""
    node = node_of(request)
    document = _Document("text/csv; charset=utf-8")
    for lines, sources in misp_feed.hash_lines(node.store, caller.viewer):
        document.write("".join(line + "\n" for line in lines).encode())
        document.made_from(sources)
    return _answer(request, node, caller, document, "GET /misp-feed/hashes.csv")


@router.get("/{name}")
def get_event(request: Request, name: str, caller: FeedCaller) -> Response:
    """One event: ``<uuid>.json``. Anything else, an event not stored and one the caller may
    not see: the same 404."""
    matched = _EVENT_NAME.fullmatch(name)
    if matched is None:
        raise Problem(404, _NOT_HERE)
    node = node_of(request)
    found = misp_feed.find_event(node.store, caller.viewer, matched.group(1).lower())
    if found is None:
        raise Problem(404, _NOT_HERE)
    document = _Document("application/json")
    document.write(orjson.dumps(found.event))
    document.made_from(found.sources)
    return _answer(request, node, caller, document, "GET /misp-feed/{uuid}.json")
