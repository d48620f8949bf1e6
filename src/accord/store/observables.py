"""Searching the observable index: exact values, containing networks, parent domains and the
hosts of URLs; every search joins the objects table through the visibility rule."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, Engine, or_, select

from accord.model.observables import Observable, normalise, parent_domains, supernets
from accord.model.visibility import Viewer
from accord.store.objects import OBJECT_COLUMNS, stored_from_row
from accord.store.records import ValueMatch
from accord.store.schema import objects, observables
from accord.store.visibility import visible_to

Relation = Literal["exact", "cidr", "parent-domain", "url-host", "host"]

_ADDRESS_KINDS = ("ipv4", "ipv6")
_NET_KINDS = ("ipv4-net", "ipv6-net")


def _host_observable(host: str) -> Observable | None:
    for kind in ("ipv4", "ipv6", "domain"):
        try:
            return normalise(kind, host)
        except ValueError:
            continue
    return None


def candidates(observable: Observable) -> tuple[dict[str, Relation], str | None]:
    """The indexed values that relate to ``observable`` and how; plus a host to match URLs
    and e-mail addresses on."""
    wanted: dict[str, Relation] = {observable.value: "exact"}
    host_of_urls: str | None = None
    if observable.kind in _ADDRESS_KINDS or observable.kind in _NET_KINDS:
        for net in supernets(observable):
            wanted.setdefault(net, "cidr")
        if observable.kind in _ADDRESS_KINDS:
            host_of_urls = observable.value
    elif observable.kind == "domain":
        for parent in parent_domains(observable.value):
            wanted.setdefault(parent, "parent-domain")
        host_of_urls = observable.value
    elif observable.kind in ("url", "email") and observable.host:
        host = _host_observable(observable.host)
        if host is not None:
            wanted.setdefault(host.value, "url-host")
            related, _ = candidates(host)
            for value, relation in related.items():
                wanted.setdefault(value, relation)
    return wanted, host_of_urls


class ObservableIndex:
    """Look-ups over the normalised observables of the latest visible versions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def search(self, viewer: Viewer, observable: Observable) -> list[ValueMatch]:
        wanted, host = candidates(observable)
        condition: ColumnElement[bool] = observables.c.value.in_(sorted(wanted))
        if host is not None:
            condition = or_(condition, observables.c.host == host)
        stmt = (
            select(
                *OBJECT_COLUMNS,
                observables.c.kind.label("ob_kind"),
                observables.c.value.label("ob_value"),
                observables.c.path.label("ob_path"),
                observables.c.simple.label("ob_simple"),
            )
            .select_from(observables.join(objects, objects.c.seq == observables.c.seq))
            .where(condition)
            .where(objects.c.is_latest)
            .where(visible_to(viewer, objects))
            .order_by(objects.c.seq)
        )
        matches: list[ValueMatch] = []
        with self.engine.connect() as conn:
            for row in conn.execute(stmt):
                relation: Relation = wanted.get(row.ob_value, "host")
                matches.append(
                    ValueMatch(
                        relation=relation,
                        kind=row.ob_kind,
                        value=row.ob_value,
                        path=row.ob_path,
                        simple=bool(row.ob_simple),
                        obj=stored_from_row(row),
                    )
                )
        return matches
