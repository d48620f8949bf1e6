"""The compiled matcher: everything a viewer may see, shaped for testing telemetry values.

Built once from the indicator values a viewer may see (`Entry`, read through the store's
visibility rule), then asked about every value a log holds:

- exact values (addresses, domains, URLs, e-mail addresses, hashes) in hash maps;
- networks by prefix: one map per prefix length present, keyed by the address's leading bits
  (IPv4 and IPv6), so a look-up costs one probe per distinct prefix length;
- domains by parent: `a.b.evil.example` probes itself, `b.evil.example` and `evil.example`;
- URLs by their host (a hit on the host's domain or address, relation "url-host"), and in the
  Safe Browsing manner: up to 5 host suffixes x up to 6 path prefixes of the observed URL are
  probed against the URL indicators' own `host/path` forms, so an indicator on
  `http://evil.example/kit/` finds `https://cdn.evil.example/kit/gate.php?id=1`;
- e-mail addresses exactly, and by their domain;
- STIX patterns beyond equality through the pattern index (`accord.match.patterns.index`),
  judged on one observation of the value.

Domains are kept as ASCII bytes (their canonical form is punycode, lower case), so that the
DNS fast path (`domain_hits`) tests the bytes a log reader splits out without decoding them.

Relations name how a hit was found, as the look-up names them: exact, cidr, parent-domain,
url-host, url-prefix, email-domain, pattern.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from accord.match.patterns import PatternError, observations
from accord.match.patterns.index import PatternIndex
from accord.model.addresses import may_be_address, parse_address
from accord.model.domains import normalise_domain
from accord.model.observable_types import (
    HASH_KINDS,
    HASH_NAME_OF_KIND,
    SCO_TYPE_OF_KIND,
    Observable,
    ObservableError,
)
from accord.store.gc_pause import collector_paused

MAX_HOST_SUFFIXES: Final = 5
MAX_PATH_PREFIXES: Final = 6


@dataclass(frozen=True, slots=True)
class Target:
    """An indicator a hit names."""

    id: str
    name: str | None
    tlp: str
    pattern: str | None = None
    benign: bool = False
    """The indicator's value is warninglisted or allowlisted for this viewer: its hits are
    reported only when asked (`--include-benign`), flagged."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One value of one indicator, normalised (`accord.model.observables`)."""

    observable: Observable
    target: int
    """Index of the indicator in the matcher's targets."""


@dataclass(frozen=True, slots=True)
class Hit:
    relation: str
    via: str
    """The indicator's value that matched (a parent domain, a network, a URL prefix...)."""
    target: Target


Numbers = int | list[int] | tuple[int, ...]
"""The targets of one key: one (an int), or several."""
K = TypeVar("K")


def _put(table: dict[K, Numbers], key: K, target: int) -> None:
    numbers = table.get(key)
    if numbers is None:
        table[key] = [target]
    elif type(numbers) is list:
        numbers.append(target)
    elif type(numbers) is int:
        table[key] = [numbers, target]
    else:
        table[key] = [*numbers, target]  # type: ignore[misc]


def numbers_of(numbers: Numbers) -> Sequence[int]:
    return (numbers,) if type(numbers) is int else numbers  # type: ignore[return-value]


@dataclass(slots=True)
class _Tables:
    addresses: dict[str, Numbers] = field(default_factory=dict)
    networks: dict[tuple[int, int, int], tuple[str, Numbers]] = field(default_factory=dict)
    prefix_lengths: dict[int, list[int]] = field(default_factory=dict)
    """IP version -> the prefix lengths present, longest first."""
    domains: dict[bytes, Numbers] = field(default_factory=dict)
    urls: dict[str, Numbers] = field(default_factory=dict)
    url_prefixes: dict[str, Numbers] = field(default_factory=dict)
    """`host/path` (no scheme, no query) of URL indicators, Safe Browsing style."""
    emails: dict[str, Numbers] = field(default_factory=dict)
    hashes: dict[str, Numbers] = field(default_factory=dict)


def _bits(version: int) -> int:
    return 32 if version == 4 else 128


def url_expression(url: Observable) -> str | None:
    """`host/path` of a canonical URL: what Safe Browsing hashes (no scheme, port, query)."""
    if url.host is None:
        return None
    rest = url.value.split("://", 1)[-1]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else "/"
    return url.host + path.split("?", 1)[0].split("#", 1)[0]


def url_probes(url: Observable) -> list[str]:
    """The `host/path` forms to probe for an observed URL: host suffixes (the exact host, and
    up to four parents made of its last labels, never a bare top-level label) x path prefixes
    (the exact path, then `/`, then up to four directory prefixes)."""
    expression = url_expression(url)
    if expression is None or url.host is None:
        return []
    host = url.host
    path = expression[len(host) :]
    hosts = [host]
    if url.rdomain is not None:  # a name, not an address
        labels = host.split(".")
        for start in range(max(1, len(labels) - MAX_HOST_SUFFIXES), len(labels) - 1):
            hosts.append(".".join(labels[start:]))
        hosts = hosts[:MAX_HOST_SUFFIXES]
    paths = [path]
    if path != "/":
        paths.append("/")
        parts = path.split("/")[1:-1]
        prefix = "/"
        for part in parts[: MAX_PATH_PREFIXES - 2]:
            prefix += part + "/"
            if prefix != path:
                paths.append(prefix)
    return [h + p for h in hosts for p in dict.fromkeys(paths)]


class Matcher:
    """What one viewer may see, compiled; ask it about values."""

    def __init__(self, targets: Sequence[Target]) -> None:
        # Kept as columns, made into Target objects only for hits: a million indicators load
        # from the cache as five lists, not a million objects.
        self._ids = [t.id for t in targets]
        self._names = [t.name for t in targets]
        self._tlps = [t.tlp for t in targets]
        self._target_patterns = [t.pattern for t in targets]
        self._benign = bytearray(t.benign for t in targets)
        self._pattern_sources: list[tuple[int, str, str]] = []
        self._tables = _Tables()
        self._patterns = PatternIndex()
        self._pattern_targets: dict[int, int] = {}

    # --- building ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def target_ids(self) -> list[str]:
        return self._ids

    def add_target(self, target: Target) -> int:
        """A new indicator to name in hits; its number for `Entry`."""
        self._ids.append(target.id)
        self._names.append(target.name)
        self._tlps.append(target.tlp)
        self._target_patterns.append(target.pattern)
        self._benign.append(target.benign)
        return len(self._ids) - 1

    def add(self, entry: Entry) -> None:
        observable, target = entry.observable, entry.target
        tables = self._tables
        kind = observable.kind
        if kind in ("ipv4", "ipv6"):
            _put(tables.addresses, observable.value, target)
        elif kind in ("ipv4-net", "ipv6-net"):
            assert observable.lo is not None
            version = 4 if kind == "ipv4-net" else 6
            prefix = int(observable.value.rpartition("/")[2])
            first = int(observable.lo, 16)
            key = (version, prefix, first >> (_bits(version) - prefix))
            held = tables.networks.get(key)
            if held is None:
                tables.networks[key] = (observable.value, [target])
            else:
                numbers = list(numbers_of(held[1]))
                numbers.append(target)
                tables.networks[key] = (held[0], numbers)
            lengths = tables.prefix_lengths.setdefault(version, [])
            if prefix not in lengths:
                lengths.append(prefix)
                lengths.sort(reverse=True)
        elif kind == "domain":
            _put(tables.domains, observable.value.encode("ascii"), target)
        elif kind == "url":
            _put(tables.urls, observable.value, target)
            expression = url_expression(observable)
            if expression is not None:
                _put(tables.url_prefixes, expression, target)
        elif kind == "email":
            _put(tables.emails, observable.value, target)
        elif kind in HASH_KINDS:
            _put(tables.hashes, observable.value, target)

    def add_pattern(self, target: int, pattern: str, stix_version: str = "2.1") -> bool:
        """Index an indicator's STIX pattern for what equality does not find; False if it
        cannot be evaluated (it then matches nothing, as it would alone)."""
        key = len(self._pattern_targets)
        try:
            self._patterns.add(key, pattern, stix_version)
        except PatternError:
            return False
        self._pattern_targets[key] = target
        self._pattern_sources.append((target, pattern, stix_version))
        return True

    # --- asking --------------------------------------------------------------------------

    def has_addresses(self) -> bool:
        return bool(self._tables.addresses or self._tables.networks)

    def has_patterns(self) -> bool:
        return bool(self._pattern_targets)

    def may_hit_address(self, text: str) -> bool:
        """False when an address as a log writes it (canonical, as Zeek and Suricata do)
        cannot hit: not an exact entry, and no networks to fall in. Saves normalising every
        address of a log when the matcher holds only exact ones."""
        return bool(self._tables.networks) or text in self._tables.addresses

    def domain_hits(self, name: bytes) -> list[tuple[str, bytes, Numbers]]:
        """(relation, matched name, targets) for a DNS name as a log writes it (any case, a
        trailing dot allowed): the fast path, without building an Observable."""
        domains = self._tables.domains
        if not domains:
            return []
        if name.endswith(b"."):
            name = name[:-1]
        if not name.islower():
            name = name.lower()
        found: list[tuple[str, bytes, Numbers]] = []
        exact = domains.get(name)
        if exact is not None:
            found.append(("exact", name, exact))
        dot = name.find(b".")
        while dot >= 0:
            parent = name[dot + 1 :]
            targets = domains.get(parent)
            if targets is not None and b"." in parent:
                found.append(("parent-domain", parent, targets))
            dot = name.find(b".", dot + 1)
        return found

    def value_hits(self, observable: Observable) -> list[Hit]:
        """Every hit for one normalised value, in the order: exact, network, parent, URL
        forms, host, pattern."""
        raw = self._raw_hits(observable)
        if self._pattern_targets:
            raw.extend(self._pattern_hits(observable))
        out: list[Hit] = []
        seen: set[tuple[str, int]] = set()
        for relation, via, targets in raw:
            for number in numbers_of(targets):
                if (relation, number) not in seen:
                    seen.add((relation, number))
                    out.append(Hit(relation, via, self.target(number)))
        return out

    def target(self, number: int) -> Target:
        return Target(
            self._ids[number],
            self._names[number],
            self._tlps[number],
            self._target_patterns[number],
            bool(self._benign[number]),
        )

    def freeze(self) -> None:
        """Single targets as plain ints (most values name one indicator): a third less to
        store and load. Lookups and `add` take both forms."""
        tables = self._tables
        tables_of_values: list[dict[Any, Numbers]] = [
            tables.addresses,
            tables.domains,
            tables.urls,
            tables.url_prefixes,
            tables.emails,
            tables.hashes,
        ]
        for table in tables_of_values:
            for key, numbers in table.items():
                if type(numbers) is list:
                    table[key] = numbers[0] if len(numbers) == 1 else tuple(numbers)

    def _raw_hits(self, observable: Observable) -> list[tuple[str, str, Numbers]]:
        tables = self._tables
        kind, value = observable.kind, observable.value
        out: list[tuple[str, str, Numbers]] = []
        if kind in ("ipv4", "ipv6", "ipv4-net", "ipv6-net"):
            out.extend(self._address_hits(observable))
        elif kind == "domain":
            out.extend(
                (relation, name.decode("ascii"), targets)
                for relation, name, targets in self.domain_hits(value.encode("ascii"))
            )
        elif kind == "url":
            exact = tables.urls.get(value)
            if exact is not None:
                out.append(("exact", value, exact))
            for probe in url_probes(observable):
                targets = tables.url_prefixes.get(probe)
                if targets is not None:
                    out.append(("url-prefix", probe, targets))
            if observable.host is not None:
                host = _host_observable(observable.host)
                if host is not None:
                    out.extend(
                        ("url-host", via, targets) for _, via, targets in self._raw_hits(host)
                    )
        elif kind == "email":
            exact = tables.emails.get(value)
            if exact is not None:
                out.append(("exact", value, exact))
            if observable.host is not None:
                out.extend(
                    ("email-domain", name.decode("ascii"), targets)
                    for _, name, targets in self.domain_hits(observable.host.encode("ascii"))
                )
        elif kind in HASH_KINDS:
            exact = tables.hashes.get(value)
            if exact is not None:
                out.append(("exact", value, exact))
        return out

    def _address_hits(self, observable: Observable) -> list[tuple[str, str, Numbers]]:
        tables = self._tables
        out: list[tuple[str, str, Numbers]] = []
        exact = tables.addresses.get(observable.value)
        if exact is not None:
            out.append(("exact", observable.value, exact))
        if observable.lo is None:
            return out
        version = 4 if observable.kind in ("ipv4", "ipv4-net") else 6
        first = int(observable.lo, 16)
        own_prefix = (
            int(observable.value.rpartition("/")[2])
            if observable.kind.endswith("-net")
            else _bits(version)
        )
        bits = _bits(version)
        for prefix in tables.prefix_lengths.get(version, ()):
            if prefix > own_prefix:
                continue  # a network only holds networks at least as long as itself
            found = tables.networks.get((version, prefix, first >> (bits - prefix)))
            if found is not None:
                out.append(("cidr" if prefix != own_prefix else "exact", found[0], found[1]))
        return out

    def _pattern_hits(self, observable: Observable) -> list[tuple[str, str, Numbers]]:
        sco = sco_of(observable)
        if sco is None:
            return []
        matched = self._patterns.match(observations.of_objects([sco]), errors=[])
        targets = self._pattern_targets
        return [
            ("pattern", observable.value, [targets[key]]) for key in matched if type(key) is int
        ]

    def stats(self) -> dict[str, int]:
        tables = self._tables
        return {
            "targets": len(self._ids),
            "addresses": len(tables.addresses),
            "networks": len(tables.networks),
            "domains": len(tables.domains),
            "urls": len(tables.urls),
            "emails": len(tables.emails),
            "hashes": len(tables.hashes),
            "patterns": len(self._pattern_targets),
        }


def _host_observable(host: str) -> Observable | None:
    """A URL's canonical host as an address or a domain."""
    try:
        return parse_address(host) if may_be_address(host) else normalise_domain(host)
    except ObservableError:
        return None


def sco_of(observable: Observable) -> dict[str, Any] | None:
    """The STIX cyber-observable a value is, as the pattern engine takes it."""
    kind = observable.kind
    sco_type = SCO_TYPE_OF_KIND.get(kind)
    if sco_type is not None:
        return {"type": sco_type, "id": f"{sco_type}--0", "value": observable.value}
    if kind in HASH_KINDS:
        return {
            "type": "file",
            "id": "file--0",
            "hashes": {HASH_NAME_OF_KIND[kind]: observable.value},
        }
    return None


def compile_matcher(
    targets: Sequence[Target],
    entries: Iterable[Entry],
    patterns: Iterable[tuple[int, str, str]] = (),
) -> Matcher:
    """A matcher over `entries` (and `patterns`: (target, pattern, STIX version) for the
    comparisons equality does not answer)."""
    matcher = Matcher(targets)
    with collector_paused():
        for entry in entries:
            matcher.add(entry)
        for target, pattern, version in patterns:
            matcher.add_pattern(target, pattern, version)
        matcher.freeze()
    return matcher


# --- the matcher on disk ------------------------------------------------------------------------

_FORMAT: Final = 1
"""Bumped whenever the tables change shape: an older file is then rebuilt, never misread."""


def dumps(matcher: Matcher) -> bytes:
    """The matcher as bytes (`marshal`: builtin types only, the fastest to load back)."""
    tables = matcher._tables
    return marshal.dumps(
        (
            _FORMAT,
            (
                matcher._ids,
                matcher._names,
                matcher._tlps,
                matcher._target_patterns,
                matcher._benign,
            ),
            tables.addresses,
            tables.networks,
            tables.prefix_lengths,
            tables.domains,
            tables.urls,
            tables.url_prefixes,
            tables.emails,
            tables.hashes,
            matcher._pattern_sources,
        )
    )


def loads(data: bytes) -> Matcher | None:
    """A matcher from `dumps`, or None when the bytes are of another format or damaged."""
    try:
        loaded = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(loaded, tuple) or len(loaded) != 11 or loaded[0] != _FORMAT:
        return None
    _, targets, *columns, patterns = loaded
    matcher = Matcher([])
    (
        matcher._ids,
        matcher._names,
        matcher._tlps,
        matcher._target_patterns,
        matcher._benign,
    ) = targets
    matcher._benign = bytearray(matcher._benign)
    matcher._tables = _Tables(*columns)
    with collector_paused():
        for target, pattern, version in patterns:
            matcher.add_pattern(target, pattern, version)
    return matcher
