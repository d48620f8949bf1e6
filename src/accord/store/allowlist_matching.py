"""Which allowlist entries cover a value: the one rule behind the look-up's benign check
(`accord.store.allowlists`) and the correlation reader (`accord.store.correlation.exclusion`).

A leaf (it imports only the model), so that both can use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from accord.model.domains import parent_domains
from accord.model.networks import family_of
from accord.model.observables import Observable, detect, normalise

E = TypeVar("E")

StoredEntry = tuple[str, str, bool, str | None, str | None]
"""An entry as stored: kind, value, suffix, lo, hi (`accord.store.schema.allowlist_entries`).
Only the truth of ``suffix`` is read, so SQLite's 0 and 1 serve as they come."""


class AllowlistMatcher(Generic[E]):
    """An organisation's allowlist in memory (tens to thousands of entries), checked against
    many values: which entries cover a value. The same value; a network that contains it
    (its own or a wider network); the domain itself or a suffix entry for it or a parent; for
    a URL or an e-mail address, the same for its host (docs/warninglists.md).

    A network covers only values of its own family, told by kinds: the entry's stored kind
    against `family_of` the value's. Its range is the entry's stored ``lo``/``hi`` (written by
    `Allowlists.add` from the normaliser), compared as fixed-width hex, so nothing is
    normalised again here."""

    __slots__ = ("_exact", "_networks", "_suffixes")

    def __init__(self, entries: Iterable[tuple[StoredEntry, E]]) -> None:
        """``entries``: each stored entry with what `matches` answers for it, one per (kind,
        value, suffix) as the table keeps them."""
        self._exact: dict[tuple[str, str], E] = {}
        self._suffixes: dict[str, E] = {}
        # lo, hi and entry of the networks, by kind (the family)
        self._networks: dict[str, list[tuple[str, str, E]]] = {"ipv4-net": [], "ipv6-net": []}
        exact, suffixes, networks = self._exact, self._suffixes, self._networks
        for (kind, value, suffix, lo, hi), entry in entries:
            if suffix:
                suffixes[value] = entry
                continue
            # A network is also its own exact value: it comes first among the answers, as a
            # same-value entry does.
            exact[kind, value] = entry
            if kind in networks:
                if lo is None or hi is None:  # not written by `Allowlists.add`
                    network = normalise(kind, value)
                    lo, hi = network.lo, network.hi
                    assert lo is not None and hi is not None
                networks[kind].append((lo, hi, entry))

    def __bool__(self) -> bool:
        return bool(self._exact or self._suffixes)

    def matches(self, observable: Observable) -> list[E]:
        """The entries that cover ``observable``, each once, same-value entries first."""
        return list(dict.fromkeys(self._covering(observable)))

    def covers(self, observable: Observable) -> bool:
        """Whether any entry covers ``observable`` (stops at the first)."""
        for _ in self._covering(observable):
            return True
        return False

    def _covering(self, observable: Observable) -> Iterator[E]:
        yield from self._covering_itself(observable)
        if observable.kind in ("url", "email") and observable.host:
            host = detect(observable.host)
            if host is not None and host.kind != observable.kind:
                yield from self._covering_itself(host)

    def _covering_itself(self, observable: Observable) -> Iterator[E]:
        key = (observable.kind, observable.value)
        if key in self._exact:
            yield self._exact[key]
        lo, hi = observable.lo, observable.hi  # set for addresses and networks only
        if lo is not None and hi is not None:
            family = family_of(observable.kind)
            if family is not None:
                for first, last, entry in self._networks[family]:
                    if first <= lo and hi <= last:
                        yield entry
        if observable.kind == "domain" and self._suffixes:
            suffixes = self._suffixes
            for name in (observable.value, *parent_domains(observable.value)):
                if name in suffixes:
                    yield suffixes[name]
