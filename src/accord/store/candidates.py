"""Which indexed values relate to an observable (exact, containing networks, parent domains,
the host of a URL), and the network prefix lengths that searching for networks needs.

A leaf of the store: the look-up (`accord.store.observables`) and correlation
(`accord.store.correlation`) both search with it, so it imports neither, nor the objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, select

from accord.model.networks import containing_networks, family_of
from accord.model.observables import Observable, normalise, parent_domains
from accord.store.schema import net_prefixes

Relation = Literal["exact", "cidr", "parent-domain", "url-host", "host"]

_ADDRESS_KINDS = ("ipv4", "ipv6")


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Candidates:
    """The indexed values that relate to one searched observable, and how."""

    values: dict[str, Relation]
    host: str | None  # a host whose URLs (and e-mail addresses) also answer


def _host_observable(host: str) -> Observable | None:
    for kind in ("ipv4", "ipv6", "domain"):
        try:
            return normalise(kind, host)
        except ValueError:
            continue
    return None


def candidates(observable: Observable, prefixes: dict[str, list[int]]) -> Candidates:
    """What to look for. ``prefixes``: the network prefix lengths present, per network kind."""
    wanted: dict[str, Relation] = {observable.value: "exact"}
    host: str | None = None
    family = family_of(observable.kind)
    if family is not None:
        for net in containing_networks(observable, prefixes.get(family, ())):
            wanted.setdefault(net, "cidr")
        if observable.kind in _ADDRESS_KINDS:
            host = observable.value
    elif observable.kind == "domain":
        for parent in parent_domains(observable.value):
            wanted.setdefault(parent, "parent-domain")
        host = observable.value
    elif observable.kind in ("url", "email") and observable.host:
        host_observable = _host_observable(observable.host)
        if host_observable is not None:
            wanted.setdefault(host_observable.value, "url-host")
            for value, relation in candidates(host_observable, prefixes).values.items():
                wanted.setdefault(value, relation)
    return Candidates(wanted, host)


def load_prefixes(conn: Connection) -> dict[str, list[int]]:
    """The network prefix lengths present, per network kind (``candidates`` takes them)."""
    found: dict[str, list[int]] = {}
    for kind, prefix in conn.execute(select(net_prefixes.c.kind, net_prefixes.c.prefix)):
        found.setdefault(kind, []).append(int(prefix))
    return found
