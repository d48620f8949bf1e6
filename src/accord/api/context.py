"""What every route shares: the store, the settings, authentication and the audit helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fastapi import Request

from accord.api.auth import Authenticator, Caller
from accord.api.export_etags import ExportEtags
from accord.api.lookup_threads import LookupThreads
from accord.api.lookup_workers import BulkHelper
from accord.api.matchers import ViewerMatchers
from accord.api.problems import Problem
from accord.intel.lookup.service import LookupService
from accord.intel.read_audit import audit_reads
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.correlation.exclusion import Exclude
from accord.store.cursors import BadCursor
from accord.store.node import Store
from accord.store.records import StoredObject


@dataclass
class Node:
    store: Store
    settings: Settings
    auth: Authenticator
    lookups: LookupService  # the node's look-ups, with its benign lists
    bulk: BulkHelper | None = None  # started with the server where wanted
    on_close: list[Callable[[], None]] = field(default_factory=list)
    export_etags: ExportEtags = field(default_factory=ExportEtags)  # /exports' 304s
    matchers: ViewerMatchers = field(default_factory=ViewerMatchers)  # POST /match's
    lookup_threads: LookupThreads = field(default_factory=LookupThreads)  # GET /lookup's

    def close(self) -> None:
        """Stop the look-up threads and give the held look-up connections back (the server
        is stopping)."""
        self.lookup_threads.close()
        self.lookups.close()

    def exclude(self) -> Exclude | None:
        """The values that do not correlate: those on the node's warninglists."""
        return self.lookups.exclude

    def cursor_after(self, caller: Caller, cursor: str | None, listing: bytes) -> int:
        """The sequence a listing's ``cursor`` continues after (0 without one); 400 for a
        cursor this node did not give this caller for this listing (`listing`: what the
        listing was asked for, `accord.store.cursors.listing`)."""
        if not cursor:
            return 0
        try:
            return self.store.cursors.open(cursor, caller.viewer, listing)
        except BadCursor:
            raise self.bad_cursor() from None

    @staticmethod
    def bad_cursor() -> Problem:
        """The answer to a cursor this node did not give this caller for this listing."""
        detail = (
            "not a cursor this node gave out to you for this listing "
            "(the filters must stay the same from page to page)"
        )
        return Problem(400, f"the cursor is {detail}", [{"pointer": "/cursor", "detail": detail}])

    def next_cursor(self, caller: Caller, seq: int, listing: bytes) -> str:
        """The opaque cursor for the page after ``seq`` (`accord.store.cursors`)."""
        return self.store.cursors.seal(seq, caller.viewer, listing)

    def audit(self, caller: Caller, action: str, target: str | None, **detail: object) -> None:
        self.store.audit.append(
            Event(
                action=action,
                user_id=caller.user.id if caller.user else None,
                org_id=caller.viewer.org_id,
                target=target,
                detail=dict(detail),
            )
        )

    def audit_reads(self, caller: Caller, objects: Iterable[StoredObject], via: str) -> None:
        """Reads of AMBER and above are recorded (`accord.intel.read_audit`)."""
        user_id = caller.user.id if caller.user else None
        audit_reads(self.store, caller.viewer, user_id, objects, via)


def node_of(request: Request) -> Node:
    node = request.app.state.node
    assert isinstance(node, Node)
    return node


def caller_of(request: Request) -> Caller:
    return node_of(request).auth(request)


def caller_or_anonymous(request: Request) -> Caller:
    """For look-ups: anonymous callers pass where the node allows public look-ups."""
    return node_of(request).auth.caller(request, anonymous_ok=True)
