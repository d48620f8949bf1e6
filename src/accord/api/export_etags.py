"""ETags of the exports (`accord.api.routes.exports`) that a sensor's poll can be answered
with, without building the export.

An export's ETag is the SHA-256 of its body: two requests that would get the same bytes get
the same ETag, whatever happened in between, and an ETag says nothing about objects the
caller may not see. Building a body costs a pass over everything the caller may see; so
each process remembers, per *state* (`state_key`: the format and parameters asked for, the
caller's organisation and principals, the store's newest sequence number or change mark
(`accord.store.change_marks`: an expiry marked by the decay job, a deletion), the caller's
allowlist), the ETag of the body it built last. A poll in the same state whose
``If-None-Match`` names that ETag gets its 304 at the cost of two index probes.

A remembered ETag is trusted for `TRUST_SECONDS` at most, and never past the soonest
``valid_until`` among the indicators of its body: what changes without a write or a mark (the
decay of scores under ``min_score``, an expiry before the decay job's next run) shows within
that time. After it, the body is built again, and a body that did not change keeps its ETag
(still a 304).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import datetime
from typing import Final

from accord.model.visibility import Viewer

TRUST_SECONDS: Final = 300.0
REMEMBERED: Final = 10_000  # states per process; the least recently used go first


def state_key(viewer: Viewer, newest_seq: int, allowlist: list[str], *asked: str) -> bytes:
    """What a body depends on, hashed: ``asked`` (format, file, parameters), who asks
    (organisation, membership, principals), the store's newest sequence and the ids of the
    caller's organisation's allowlist entries."""
    digest = hashlib.sha256()
    for part in (
        *asked,
        viewer.org_id or "",
        "member" if viewer.is_member else "-",
        *sorted(viewer.principals),
        str(newest_seq),
        *sorted(allowlist),
    ):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.digest()


def trust_until(next_expiry: str | None, now: float | None = None) -> float:
    """Until when (`time.monotonic`) an ETag may be trusted, given the soonest
    ``valid_until`` (a timestamp key) of its body."""
    start = time.monotonic() if now is None else now
    limit = start + TRUST_SECONDS
    if next_expiry is None:
        return limit
    expires = datetime.fromisoformat(next_expiry.replace("Z", "+00:00")).timestamp()
    return min(limit, start + max(0.0, expires - time.time()))


class ExportEtags:
    """The remembered ETags of one process (held by the API's `accord.api.context.Node`)."""

    def __init__(self) -> None:
        self._known: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # bodies built: what a 304 without a build leaves as it was

    def known(self, state: bytes) -> str | None:
        """The ETag remembered for ``state``, if it may still be trusted."""
        with self._lock:
            found = self._known.get(state)
            if found is None:
                return None
            if found[1] <= time.monotonic():
                del self._known[state]
                return None
            self._known.move_to_end(state)
            return found[0]

    def remember(self, state: bytes, etag: str, until: float) -> None:
        with self._lock:
            self._known[state] = (etag, until)
            self._known.move_to_end(state)
            while len(self._known) > REMEMBERED:
                self._known.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._known.clear()
