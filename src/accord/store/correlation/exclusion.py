"""Values that must not correlate for a viewer: on one of the node's lists (warninglists,
passed in as ``exclude``) or on the viewer organisation's allowlist.

They are applied when reading, not when writing (`accord.store.correlation.read` says why).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, String, bindparam, select

from accord.model.domains import parent_domains
from accord.model.observable_types import Observable
from accord.model.observables import detect
from accord.model.visibility import Viewer
from accord.store.correlation.relations import FILE_HUB, NETWORK_FAMILY
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


class Exclusions:
    """Values that must not correlate for this viewer: the caller's ``exclude`` (the node's
    warninglists) and the viewer organisation's allowlist."""

    def __init__(self, conn: Connection, viewer: Viewer, exclude: Exclude | None) -> None:
        self.exclude = exclude
        self.exact: set[tuple[str, str]] = set()
        self.suffixes: set[str] = set()
        self.networks: list[tuple[str, str, str]] = []
        self.memo: dict[str, bool] = {}
        if viewer.org_id is not None:
            rows = _ALLOWLIST.rows(conn, {"org_id": viewer.org_id})
            for kind, value, suffix, lo, hi in rows:
                if suffix:
                    self.suffixes.add(value)
                elif kind in NETWORK_FAMILY and lo and hi:
                    self.networks.append((kind, lo, hi))
                else:
                    self.exact.add((kind, value))

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

    @property
    def _any_entries(self) -> bool:
        return bool(self.exact or self.suffixes or self.networks)

    def _allowlisted(self, value: str) -> bool:
        observable = detect(value)
        if observable is None:
            return False
        checks = [observable]
        if observable.kind in ("url", "email") and observable.host:
            host = detect(observable.host)
            if host is not None:
                checks.append(host)
        for item in checks:
            if (item.kind, item.value) in self.exact:
                return True
            if item.kind == "domain" and any(name in self.suffixes for name in _names(item.value)):
                return True
            if item.lo and item.hi:
                for _kind, lo, hi in self.networks:
                    if len(lo) == len(item.lo) and lo <= item.lo and item.hi <= hi:
                        return True
        return False


def _names(domain: str) -> Iterable[str]:
    yield domain
    yield from parent_domains(domain)
