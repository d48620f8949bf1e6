"""What every route shares: the store, the settings, authentication and the audit helpers."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy import Connection

from accord.api.auth import Authenticator, Caller
from accord.api.bulk import BulkHelper
from accord.api.problems import Problem
from accord.intel.lists import BenignLists
from accord.intel.lookup import BenignCheck
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.correlation.exclusion import Exclude
from accord.store.cursors import BadCursor
from accord.store.engine import connection_lost, lookup_connection, release_lookup_connection
from accord.store.node import Store
from accord.store.records import StoredObject


@dataclass
class Node:
    store: Store
    settings: Settings
    auth: Authenticator
    lists: BenignLists | None = None
    bulk: BulkHelper | None = None  # started with the server where wanted
    on_close: list[Callable[[], None]] = field(default_factory=list)
    _held: tuple[int, Connection] | None = field(default=None, repr=False)

    def lookup_connection(self) -> Connection:
        """A connection for a single look-up. Those run inline on the event loop's thread,
        one at a time: there one connection stays checked out between look-ups
        (`accord.store.engine.lookup_connection`), which saves a pool checkout and check-in
        each time, and on PostgreSQL the liveness ping, the transaction's BEGIN and COMMIT
        and a setting per search: over a quarter of a look-up there. The caller leaves it
        with no transaction open. From another thread: a pooled one, to be closed."""
        thread = threading.get_ident()
        held = self._held
        if held is not None and held[0] == thread:
            if not connection_lost(held[1]):
                return held[1]
            self.close()  # the database restarted, say: start over with a new one
        elif held is not None:  # another thread's (a test's second event loop, say)
            return self.store.engine.connect()
        conn = lookup_connection(self.store.engine)
        self._held = (thread, conn)
        weakref.finalize(self, release_lookup_connection, conn)  # even without close()
        return conn

    def lookup_connection_lost(self, conn: Connection) -> bool:
        """After a failed look-up: whether it failed because ``conn``, the held connection,
        is gone (a new one will be taken: the look-up may be tried once more)."""
        return self._held is not None and conn is self._held[1] and connection_lost(conn)

    @property
    def held(self) -> Connection | None:
        """The connection kept for single look-ups, if one is."""
        return None if self._held is None else self._held[1]

    def close(self) -> None:
        """Give the held connection back (the server is stopping)."""
        held, self._held = self._held, None
        if held is not None:
            release_lookup_connection(held[1])

    def benign_check(self, caller: Caller) -> BenignCheck | None:
        """Warninglists and the caller organisation's allowlist, for a look-up."""
        return None if self.lists is None else self.lists.for_viewer(caller.viewer)

    def exclude(self) -> Exclude | None:
        """The values that do not correlate: those on the node's warninglists."""
        return None if self.lists is None else self.lists.warninglisted

    def cursor_after(self, caller: Caller, cursor: str | None, listing: bytes) -> int:
        """The sequence a listing's ``cursor`` continues after (0 without one); 400 for a
        cursor this node did not give this caller for this listing (`listing`: what the
        listing was asked for, `accord.store.cursors.listing`)."""
        if not cursor:
            return 0
        try:
            return self.store.cursors.open(cursor, caller.viewer, listing)
        except BadCursor:
            detail = (
                "not a cursor this node gave out to you for this listing "
                "(the filters must stay the same from page to page)"
            )
            raise Problem(
                400, f"the cursor is {detail}", [{"pointer": "/cursor", "detail": detail}]
            ) from None

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
        """Reads of AMBER, AMBER+STRICT and RED content are recorded (TLP 2.0 says who may
        know; the log says who did)."""
        sensitive = [o.id for o in objects if o.tlp >= Tlp.AMBER]
        if sensitive:
            self.audit(
                caller,
                "read",
                sensitive[0] if len(sensitive) == 1 else None,
                via=via,
                ids=sensitive,
            )


def node_of(request: Request) -> Node:
    node = request.app.state.node
    assert isinstance(node, Node)
    return node


def caller_of(request: Request) -> Caller:
    return node_of(request).auth(request)


def caller_or_anonymous(request: Request) -> Caller:
    """For look-ups: anonymous callers pass where the node allows public look-ups."""
    return node_of(request).auth.caller(request, anonymous_ok=True)
