"""GET /stream: a live stream (Server-Sent Events) of the object versions and sightings the
caller may see, as they are stored (docs/stream.md).

Each version is one event, in the store's insertion order (``objects.seq``): ``id:`` is its
position, ``event:`` is ``sighting`` or ``object``, ``data:`` one line of JSON (`frame`). A
client that reconnects sends the last id it got as ``Last-Event-ID`` (the HTML standard's
EventSource does, section 9.2 "Server-sent events") or ``?after=``, and the stream goes on
after it: nothing is missed and nothing comes twice. Without either, the stream starts at
the newest version stored (only what is added from now on); ``?after=0`` replays everything
the caller may see.

Why it polls. Each open stream asks the store every ``Settings.stream_poll_seconds`` for
the versions after its position: `accord.store.taxii.TaxiiStore.page`, the keyset page
TAXII serves, which applies the visibility rule in its query (principle 2), so the stream
shows exactly what TAXII would. PostgreSQL's LISTEN/NOTIFY would save the idle queries, but
SQLite has nothing like it and a second mechanism would need its own tests on both stores.
An idle poll is one read of the newest position (the largest key of the primary key's
index), and the page is read only when that moved: about 0.5 ms on SQLite and 1 ms on
PostgreSQL, measured on a loaded two-core machine (a page costs 2 to 5 ms, mostly building
the statement).
Each poll first asks for the newest position (`TaxiiStore.newest_seq`): when the page comes
back short, the stream's position moves there, so versions the caller may not see are
scanned once, not at every poll. That position is never sent: ids are only ever the
positions of events the caller may see, the same gaps TAXII pages have.

The ids are the store's sequence numbers themselves, not TAXII's sealed cursors, as issue 18
asks ("resumable with Last-Event-ID (the store's sequence)"). A caller learns from them
roughly how much the node stores between two of its events, nothing about what; a position
it sends that falls on a version it may not see is still only a position.

Why a plain `StreamingResponse` and not sse-starlette: the format is four lines per event
(the data is one line of JSON: JSON strings cannot hold a raw line break, and the store's
raw JSON is flattened to one line, `frame`), and the stream needs its own loop anyway for
the polls, the heartbeats and the key's recheck. sse-starlette would add a dependency whose
shutdown handling patches uvicorn's signal handlers in a process-wide flag.

What a hostile caller can make it do: hold connections (at most
``Settings.stream_max_per_key`` per key and worker, then 429), make the node poll (one
indexed query a second per stream, in the thread pool, never on the event loop), replay
from 0 (pages of `BATCH`, sent no faster than it reads: each send waits for the socket).
Reads of AMBER and above are audited per batch before they are sent
(`accord.intel.read_audit`). The key is checked again every ``Settings.key_cache_seconds``
(`Authenticator.recheck`): a revoked key's stream ends, a changed viewer applies.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.problems import PROBLEM, Problem
from accord.intel.read_audit import audit_reads
from accord.model.stix_identifiers import TYPE_RE
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.taxii import EVERYTHING, Entry, Match

router = APIRouter(tags=["stream"])

BATCH = 500  # events read per poll at most; a client catching up gets pages of this many
MAX_TYPES = 50  # types in one ?types= filter
MAX_SEQ = 2**63 - 1  # the largest position a BIGINT holds
RETRY_MS = 5000  # the reconnection delay the stream suggests to EventSource clients
VIA = "GET /api/v1/stream"  # how the audit log names these reads
MEDIA_TYPE = "text/event-stream"
_POSITION = re.compile(r"[0-9]{1,19}")


@dataclass
class OpenStreams:
    """The streams each key holds open in this worker (`Settings.stream_max_per_key`)."""

    counts: dict[str, int] = field(default_factory=dict)

    def open(self, key_id: str, most: int) -> bool:
        if self.counts.get(key_id, 0) >= most:
            return False
        self.counts[key_id] = self.counts.get(key_id, 0) + 1
        return True

    def close(self, key_id: str) -> None:
        left = self.counts.get(key_id, 0) - 1
        if left > 0:
            self.counts[key_id] = left
        else:
            self.counts.pop(key_id, None)


def _open_streams(request: Request) -> OpenStreams:
    """The application's count of open streams, made with its first stream (the event loop
    is single-threaded: no lock needed)."""
    state = request.app.state
    found = getattr(state, "open_streams", None)
    if not isinstance(found, OpenStreams):
        found = OpenStreams()
        state.open_streams = found
    return found


def position(text: str, where: str) -> int:
    """A position the client sent: a whole number from 0 to `MAX_SEQ`; else 400."""
    text = text.strip()
    if _POSITION.fullmatch(text) is None or int(text) > MAX_SEQ:
        detail = f"{where} must be a whole number (the id of the last event received)"
        pointer = "/after" if where == "after" else "/headers/Last-Event-ID"
        raise Problem(400, f"{detail}, not {text[:40]!r}", [{"pointer": pointer, "detail": detail}])
    return int(text)


def wanted_types(text: str | None) -> tuple[str, ...]:
    """The ``types`` filter: a comma-separated list of STIX types (section 3.1); else 400."""
    if text is None:
        return ()
    names = tuple(sorted({name.strip() for name in text.split(",") if name.strip()}))
    bad = [name for name in names if TYPE_RE.fullmatch(name) is None]
    if bad or len(names) > MAX_TYPES:
        detail = (
            f"not a STIX type: {bad[0][:60]!r} (3 to 250 of a-z, 0-9 and -)"
            if bad
            else f"at most {MAX_TYPES} types"
        )
        raise Problem(400, f"types: {detail}", [{"pointer": "/types", "detail": detail}])
    return names


def frame(entry: Entry) -> bytes:
    """One event (HTML standard 9.2.5, the event stream format). The object's raw JSON is
    embedded as stored, its line breaks turned into spaces: in valid JSON a line break can
    only be whitespace between tokens (inside a string it is escaped), and an event's
    ``data:`` line must hold none."""
    object_type = entry.id.partition("--")[0]
    head = orjson.dumps(
        {
            "seq": entry.seq,
            "id": entry.id,
            "type": object_type,
            "modified": entry.version,
            "tlp": entry.tlp.label,
        }
    )
    raw = entry.raw or "null"
    if "\n" in raw or "\r" in raw:
        raw = raw.replace("\r", " ").replace("\n", " ")
    kind = b"sighting" if object_type == "sighting" else b"object"
    data = head[:-1] + b',"object":' + raw.encode() + b"}"
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (entry.seq, kind, data)


@dataclass(frozen=True, slots=True)
class Poll:
    """What one poll found: the events to send and the position after them."""

    events: bytes
    after: int
    full: bool  # a whole batch: there may be more right away


def poll(
    store: Store, viewer: Viewer, user_id: str | None, after: int, types: Sequence[str]
) -> Poll:
    """The next batch after ``after`` that ``viewer`` may see (the store applies the rule),
    audited. Runs in a worker thread."""
    newest = store.taxii.newest_seq()  # first: every version up to it has committed
    if newest <= after:
        return Poll(b"", after, False)  # nothing stored since: the idle poll ends here
    entries = store.taxii.page(
        viewer, EVERYTHING, Match(types=tuple(types), versions=("all",)), after=after, limit=BATCH
    )
    audit_reads(store, viewer, user_id, entries, VIA)
    full = len(entries) == BATCH
    last = entries[-1].seq if entries else after
    # A short page has shown everything up to `newest`: move there (see the module's text).
    moved = last if full else max(after, last, newest)
    return Poll(b"".join(frame(entry) for entry in entries), moved, full)


@dataclass
class Stream:
    """One open stream: whom it reads for, where it is, and when it last spoke."""

    node: Node
    request: Request
    caller: Caller
    header: str
    after: int
    types: tuple[str, ...]

    async def events(self) -> AsyncIterator[bytes]:
        settings = self.node.settings
        viewer = self.caller.viewer
        user_id = self.caller.user.id if self.caller.user else None
        checked = spoke = time.monotonic()
        yield b": accord stream\nretry: %d\n\n" % RETRY_MS
        while not await self.request.is_disconnected():
            if time.monotonic() - checked >= settings.key_cache_seconds:
                fresh = await anyio.to_thread.run_sync(self.node.auth.recheck, self.header)
                if fresh is None:
                    return  # the key was revoked: the client's reconnection gets 401
                viewer, user_id = fresh.viewer, fresh.user.id if fresh.user else None
                checked = time.monotonic()
            found = await anyio.to_thread.run_sync(
                poll, self.node.store, viewer, user_id, self.after, self.types
            )
            self.after = found.after
            if found.events:
                yield found.events  # waits while the client is slow to read
                spoke = time.monotonic()
            if found.full:
                continue  # catching up: the next batch at once
            if time.monotonic() - spoke >= settings.stream_heartbeat_seconds:
                yield b": heartbeat\n\n"
                spoke = time.monotonic()
            until_beat = settings.stream_heartbeat_seconds - (time.monotonic() - spoke)
            await anyio.sleep(max(0.0, min(settings.stream_poll_seconds, until_beat)))


class EventStream(StreamingResponse):
    """The response: its stream counts as open until the response ends, however it ends (a
    client gone before the first byte never starts the generator, whose own ``finally``
    would then never run)."""

    media_type = MEDIA_TYPE

    def __init__(self, stream: Stream, streams: OpenStreams, key_id: str) -> None:
        super().__init__(
            stream.events(),
            headers={
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass events on as they come
            },
        )
        self._streams = streams
        self._key_id = key_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except anyio.get_cancelled_exc_class():
            # Only the server cancels a request from outside: it is stopping and its grace
            # period is over (`accord serve`, SHUTDOWN_SECONDS). End the stream as streams
            # end, so that the client resumes by Last-Event-ID, elsewhere or later; a
            # client that left first does not need the last chunk.
            with anyio.CancelScope(shield=True), contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._streams.close(self._key_id)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An endless event stream (docs/stream.md): one event per version.",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    # Problem documents; spelt out, since a `model` would be listed under the route's own
    # media type (text/event-stream). ProblemDoc is in the document's components already.
    **{
        code: {
            "description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/ProblemDoc"}}},
        }
        for code, description in (
            (400, "`Last-Event-ID`, `after` or `types` is not valid"),
            (401, "no API key, or not a valid one"),
            (429, "too many requests, or too many streams open for this key"),
        )
    },
}


@router.get(
    "/stream",
    response_class=EventStream,
    status_code=200,
    responses=_RESPONSES,
    summary="A live stream (Server-Sent Events) of the objects and sightings you may see",
    description=(
        "Each object version the caller may see, as it is stored, as one event: `id` is its "
        "position, `event` is `object` or `sighting`, `data` a JSON object with `seq`, `id`, "
        "`type`, `modified`, `tlp` and `object` (the STIX JSON). Resume with the "
        "`Last-Event-ID` header or `?after=` (the last id received); `?after=0` replays "
        "everything. A comment line `: heartbeat` comes when nothing happens."
    ),
)
async def stream(
    request: Request,
    caller: Annotated[Caller, Depends(caller_of)],
    after: Annotated[
        str | None, Query(description="start after this event id (0: from the start)")
    ] = None,
    types: Annotated[
        str | None, Query(description="only these STIX types, comma-separated")
    ] = None,
    last_event_id: Annotated[
        str | None, Header(description="sent by EventSource on reconnection; wins over after")
    ] = None,
) -> EventStream:
    node = node_of(request)
    caller.require()  # (the dependency already refused anonymous callers: 401)
    assert caller.key_id is not None
    wanted = wanted_types(types)
    if last_event_id is not None:
        start = position(last_event_id, "Last-Event-ID")
    elif after is not None:
        start = position(after, "after")
    else:
        start = await anyio.to_thread.run_sync(node.store.taxii.newest_seq)
    streams = _open_streams(request)
    most = node.settings.stream_max_per_key
    if not streams.open(caller.key_id, most):
        raise Problem(
            429,
            f"this key has {most} streams open already (the most one key may hold); "
            "close one, or resume it with Last-Event-ID",
            headers={"Retry-After": "5"},
        )
    header = request.headers.get("authorization", "")
    opened = Stream(node, request, caller, header, start, wanted)
    return EventStream(opened, streams, caller.key_id)
