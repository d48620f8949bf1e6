"""Organisation allowlists: values an organisation knows to be benign in its own views.

An entry is an exact observable (address, URL, e-mail, hash, domain), a network (CIDR) that
covers every address and smaller network inside it, or a domain suffix ("*.example.com" or
".example.com") that covers the domain and every name below it. Entries are normalised with
the project's normaliser (design principle 3), so "HXXP://Example[.]com/" and
"http://example.com/" are one entry. A URL or an e-mail address is also covered through its
host. Allowlists are per organisation: one organisation's entries never touch another's views.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, Select, delete, insert, select

from accord.model.observables import Observable, ObservableError, detect, normalise
from accord.store.allowlist_matching import AllowlistMatcher
from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.organisations import AlreadyExists, NotFound
from accord.store.schema import allowlist_entries


@dataclass(frozen=True, slots=True)
class AllowlistEntry:
    id: str
    org_id: str
    kind: str
    """An observable kind; networks are "ipv4-net" / "ipv6-net"."""
    value: str
    """Canonical text (for a suffix, the domain without "*.")."""
    suffix: bool
    """True for a domain suffix: the domain and every name below it."""
    comment: str | None
    added_by: str | None
    added: str

    @property
    def display(self) -> str:
        """The entry as a user writes it: "*.example.com" for a suffix."""
        return f"*.{self.value}" if self.suffix else self.value


def parse_entry(text: str) -> tuple[Observable, bool]:
    """The normalised observable of an allowlist entry, and whether it is a domain suffix.

    Raises `ObservableError` when the text is not an observable."""
    raw = text.strip()
    if raw.startswith(("*.", ".")):
        return normalise("domain", raw.lstrip("*").lstrip(".")), True
    observable = detect(raw)
    if observable is None:
        raise ObservableError(
            f"not an address, network, domain, URL, e-mail address or hash: {text!r}"
        )
    return observable, False


class Allowlists:
    """Every organisation's allowlist."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        org_id: str,
        value: str,
        comment: str | None = None,
        added_by: str | None = None,
    ) -> AllowlistEntry:
        """Add an entry; raises `ObservableError` for a value that is not an observable and
        `AlreadyExists` when the organisation has this entry already."""
        observable, suffix = parse_entry(value)
        entry = AllowlistEntry(
            id=str(uuid.uuid4()),
            org_id=org_id,
            kind=observable.kind,
            value=observable.value,
            suffix=suffix,
            comment=comment,
            added_by=added_by,
            added=now_key(),
        )
        with write_transaction(self.engine) as conn:
            if conn.execute(self._same(org_id, observable, suffix)).first() is not None:
                raise AlreadyExists(f"{entry.display} is on the allowlist already")
            conn.execute(
                insert(allowlist_entries).values(
                    id=entry.id,
                    org_id=org_id,
                    kind=entry.kind,
                    value=entry.value,
                    suffix=suffix,
                    lo=observable.lo,
                    hi=observable.hi,
                    comment=comment,
                    added_by=added_by,
                    added=entry.added,
                )
            )
        return entry

    def remove(self, org_id: str, entry: str) -> AllowlistEntry:
        """Remove an entry, named by its id or written as it was added (any spelling that
        normalises the same); raises `NotFound`."""
        found = [e for e in self.entries(org_id) if e.id == entry]
        if not found:
            try:
                observable, suffix = parse_entry(entry)
            except ObservableError:
                observable, suffix = None, False
            if observable is not None:
                found = [
                    e
                    for e in self.entries(org_id)
                    if (e.kind, e.value, e.suffix) == (observable.kind, observable.value, suffix)
                ]
        if not found:
            raise NotFound(f"{entry!r} is not on the allowlist: see `accord allowlist list`")
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(allowlist_entries)
                .where(allowlist_entries.c.org_id == org_id)
                .where(allowlist_entries.c.id == found[0].id)
            )
        return found[0]

    def entries(self, org_id: str) -> list[AllowlistEntry]:
        return [_entry(row) for row in self._rows(org_id)]

    def matches(self, org_id: str, observable: Observable) -> list[AllowlistEntry]:
        """The organisation's entries that cover `observable` (see `AllowlistMatcher`)."""
        return self.matcher(org_id).matches(observable)

    def matcher(self, org_id: str) -> AllowlistMatcher[AllowlistEntry]:
        """The organisation's whole allowlist, ready to check many values in memory (an
        allowlist is tens to thousands of entries; a bulk look-up checks ten thousand)."""
        return AllowlistMatcher(
            ((row.kind, row.value, row.suffix, row.lo, row.hi), _entry(row))
            for row in self._rows(org_id)
        )

    def _rows(self, org_id: str) -> list[Row[Any]]:
        stmt = (
            select(allowlist_entries)
            .where(allowlist_entries.c.org_id == org_id)
            .order_by(allowlist_entries.c.kind, allowlist_entries.c.value)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(stmt))

    def _same(self, org_id: str, observable: Observable, suffix: bool) -> Select[tuple[str]]:
        table = allowlist_entries
        return (
            select(table.c.id)
            .where(table.c.org_id == org_id)
            .where(table.c.kind == observable.kind)
            .where(table.c.value == observable.value)
            .where(table.c.suffix == suffix)
        )


def _entry(row: Row[Any]) -> AllowlistEntry:
    return AllowlistEntry(
        id=row.id,
        org_id=row.org_id,
        kind=row.kind,
        value=row.value,
        suffix=bool(row.suffix),
        comment=row.comment,
        added_by=row.added_by,
        added=row.added,
    )
