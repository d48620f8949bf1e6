"""Values that must not correlate for a viewer: on one of the node's lists (warninglists,
passed in as ``exclude``) or on the viewer organisation's allowlist.

They are applied when reading, not when writing (`accord.store.correlation.read` says why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, String, bindparam, select

from accord.model.observable_types import Observable
from accord.model.observables import detect
from accord.model.visibility import Viewer
from accord.store.allowlist_matching import AllowlistMatcher
from accord.store.correlation.relations import FILE_HUB
from accord.store.prepared import Prepared
from accord.store.schema import allowlist_entries

Exclude = Callable[[str], bool]
"""Whether an indexed value (its text) must not correlate: it is on one of the node's lists."""


def excluding(check: Callable[[Observable], Sequence[Any]] | None) -> Exclude | None:
    """``exclude`` from a look-up's benign check (warninglists, the allowlist): a value on a
    list does not correlate; a list that names only its parent domain (``via_parent``) says
    nothing about the value itself."""
    if check is None:
        return None

    def excluded(value: str) -> bool:
        observable = detect(value)
        return observable is not None and any(
            not getattr(hit, "via_parent", False) for hit in check(observable)
        )

    return excluded


# The organisation's allowlist, read on every look-up that finds correlations.
_ALLOWLIST = Prepared(
    select(
        allowlist_entries.c.kind,
        allowlist_entries.c.value,
        allowlist_entries.c.suffix,
        allowlist_entries.c.lo,
        allowlist_entries.c.hi,
    ).where(allowlist_entries.c.org_id == bindparam("org_id", type_=String()))
)

_NO_ENTRIES: AllowlistMatcher[None] = AllowlistMatcher(())


class Exclusions:
    """Values that must not correlate for this viewer: the caller's ``exclude`` (the node's
    warninglists) and the viewer organisation's allowlist (`AllowlistMatcher`, the benign
    check's rule)."""

    def __init__(self, conn: Connection, viewer: Viewer, exclude: Exclude | None) -> None:
        self.exclude = exclude
        self.memo: dict[str, bool] = {}
        rows = _ALLOWLIST.rows(conn, {"org_id": viewer.org_id}) if viewer.org_id is not None else []
        # Most viewers have no allowlist: they share one empty matcher. The reader needs no
        # more than yes or no, so no entry is built for a row.
        self.allowlist: AllowlistMatcher[None] = (
            AllowlistMatcher(zip(rows, repeat(None))) if rows else _NO_ENTRIES
        )
        self._any_entries = bool(rows)

    def excluded(self, value: str) -> bool:
        if value.startswith(FILE_HUB) or (self.exclude is None and not self._any_entries):
            return False
        found = self.memo.get(value)
        if found is None:
            found = (self.exclude is not None and self.exclude(value)) or (
                self._any_entries and self._allowlisted(value)
            )
            self.memo[value] = found
        return found

    def _allowlisted(self, value: str) -> bool:
        observable = detect(value)
        return observable is not None and self.allowlist.covers(observable)
