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

from sqlalchemy import ColumnElement, Engine, Row, Select, and_, delete, insert, or_, select

from accord.model.observables import Observable, ObservableError, detect, normalise, parent_domains
from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.organisations import AlreadyExists, NotFound
from accord.store.schema import allowlist_entries

_NETWORK_KINDS = {"ipv4": "ipv4-net", "ipv6": "ipv6-net"}


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
        stmt = (
            select(allowlist_entries)
            .where(allowlist_entries.c.org_id == org_id)
            .order_by(allowlist_entries.c.kind, allowlist_entries.c.value)
        )
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(stmt)]

    def matches(self, org_id: str, observable: Observable) -> list[AllowlistEntry]:
        """The organisation's entries that cover `observable`: the same value; a network that
        contains it; the domain itself or a suffix entry for it or a parent; for a URL or an
        e-mail address, the same for its host."""
        table = allowlist_entries
        conditions: list[ColumnElement[bool]] = [
            and_(table.c.kind == observable.kind, table.c.value == observable.value)
        ]
        conditions.extend(_address_conditions(observable))
        host = observable.host if observable.kind in ("url", "email") else None
        if host is not None:
            host_observable = detect(host)
            if host_observable is not None and host_observable.kind != observable.kind:
                conditions.append(
                    and_(
                        table.c.kind == host_observable.kind,
                        table.c.value == host_observable.value,
                    )
                )
                conditions.extend(_address_conditions(host_observable))
                if host_observable.kind == "domain":
                    conditions.append(_suffix_condition(host_observable.value))
        if observable.kind == "domain":
            conditions.append(_suffix_condition(observable.value))
        stmt = (
            select(table)
            .where(table.c.org_id == org_id)
            .where(or_(*conditions))
            .order_by(table.c.kind, table.c.value)
        )
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(stmt)]

    def _same(self, org_id: str, observable: Observable, suffix: bool) -> Select[tuple[str]]:
        table = allowlist_entries
        return (
            select(table.c.id)
            .where(table.c.org_id == org_id)
            .where(table.c.kind == observable.kind)
            .where(table.c.value == observable.value)
            .where(table.c.suffix == suffix)
        )


def _address_conditions(observable: Observable) -> list[ColumnElement[bool]]:
    """Networks that contain an address or a network: a range comparison on the fixed-width
    hex bounds (string order is numeric order), within one family."""
    if observable.lo is None or observable.hi is None:
        return []
    family = observable.kind.removesuffix("-net")
    table = allowlist_entries
    return [
        and_(
            table.c.kind == _NETWORK_KINDS[family],
            table.c.lo <= observable.lo,
            table.c.hi >= observable.hi,
        )
    ]


def _suffix_condition(domain: str) -> ColumnElement[bool]:
    table = allowlist_entries
    names = [domain, *parent_domains(domain)]
    return and_(table.c.kind == "domain", table.c.suffix, table.c.value.in_(names))


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
