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

An indicator whose ``valid_until`` has passed hits nothing: its expiry is kept with it and
tested when a value is asked about, so a matcher built before the expiry (cached, or held by a
long scan) stops naming it at that time, not when it is next built.
"""

from __future__ import annotations

import marshal
import socket
import sys
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import compress, repeat
from operator import eq, rshift
from typing import Any, Final, TypeVar

from accord.match.patterns import PatternError, observations
from accord.match.patterns.index import PatternIndex
from accord.model.addresses import may_be_address, parse_address
from accord.model.domains import normalise_domain
from accord.model.observable_types import (
    HASH_KINDS,
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


def _lower_no_dot(names: Sequence[bytes]) -> Sequence[bytes]:
    """The names lower case, one trailing dot dropped (as `domain_hits` takes them), for
    a whole batch at once: joined, changed and split again in C."""
    joined = b"\n".join(names)
    changed = False
    if not joined.islower():
        joined = joined.lower()
        changed = True
    if b".\n" in joined or joined.endswith(b"."):
        joined = joined.replace(b".\n", b"\n")
        if joined.endswith(b"."):
            joined = joined[:-1]
        changed = True
    if not changed:
        return names
    out = joined.split(b"\n")
    if len(out) != len(names):  # a name held a newline: one by one
        return [
            name[:-1] if name.endswith(b".") else name for name in (name.lower() for name in names)
        ]
    return out


def _last_three(name: bytes) -> bytes:
    """The last three labels of a name (all of it when it has fewer)."""
    last = name.rfind(b".")
    if last <= 0:
        return name
    second = name.rfind(b".", 0, last)
    if second <= 0:
        return name
    return name[name.rfind(b".", 0, second) + 1 :]


def _probe_level(version: int, prefix: int) -> int:
    """The prefix length at which a network (or address) of `prefix` bits is probed for:
    its own, but IPv4 networks longer than /24 at /24 and IPv6 ones longer than /64 at /64
    (few addresses share those leading bits by chance; one probe less per length)."""
    bits = 32 if version == 4 else 128
    merged = 24 if version == 4 else 64
    return merged if merged <= prefix < bits else prefix


_PTON4: Final = partial(socket.inet_pton, socket.AF_INET)
_PTON6: Final = partial(socket.inet_pton, socket.AF_INET6)
_FROM_BYTES: Final = partial(int.from_bytes, byteorder="big")
_SWAP: Final = sys.byteorder == "little"
_U32: Final = next(code for code in "IL" if array(code).itemsize == 4)


@dataclass(slots=True)
class _Prefilter:
    """What a batch of log values is tested against before the full look-up, so that the
    values that cannot hit (nearly all) cost a set probe or two each, in C.

    - `tails`: the last two labels of every domain held (`Matcher.domain_candidates`);
    - `exact_addresses`: the addresses held, as the bytes a log writes (canonical text);
    - `v4`, `v6`: per probe level (`_probe_level`: each prefix length held, those longer
      than /24 or /64 merged), the leading bits of every network held at that level, and
      of every address held (at /32 or /128): an address inside a network of /20 shares
      its leading 20 bits with it, one inside a /28 its leading 24."""

    tails: set[bytes]
    shallow: set[bytes]
    deep: set[bytes]
    exact_addresses: set[bytes]
    v4: list[tuple[int, set[int]]]
    v6: list[tuple[int, set[int]]]

    @classmethod
    def of(cls, tables: _Tables) -> _Prefilter:
        tails: set[bytes] = set()
        shallow: set[bytes] = set()  # the indicators of one or two labels
        deep: set[bytes] = set()  # the last three labels of the others
        for name in tables.domains:
            last = name.rfind(b".")
            second = name.rfind(b".", 0, last) if last > 0 else -1
            if second < 0:
                tails.add(name)
                shallow.add(name)
            else:
                tails.add(name[second + 1 :])
                deep.add(_last_three(name))
        exact = {text.encode("ascii", "replace") for text in tables.addresses}
        levels: dict[tuple[int, int], set[int]] = {}
        for version, prefix, key in tables.networks:
            level = _probe_level(version, prefix)
            levels.setdefault((version, level), set()).add(key >> (prefix - level))
        if tables.networks:
            for text in tables.addresses:
                version = 6 if ":" in text else 4
                bits = 128 if version == 6 else 32
                number = _FROM_BYTES(_PTON6(text) if version == 6 else _PTON4(text))
                level = _probe_level(version, bits)
                levels.setdefault((version, level), set()).add(number >> (bits - level))
        return cls(
            tails,
            shallow,
            deep,
            exact,
            [(32 - level, keys) for (version, level), keys in levels.items() if version == 4],
            [(128 - level, keys) for (version, level), keys in levels.items() if version == 6],
        )

    def v4_candidates(self, rows: Sequence[int], texts: Sequence[str]) -> list[int]:
        if not self.v4:
            return []
        try:
            packed = array(_U32, b"".join(map(_PTON4, texts)))
        except OSError:  # one is not a plain dotted quad: one by one
            return [row for row, text in zip(rows, texts, strict=True) if self._v4_one(text)]
        if _SWAP:
            packed.byteswap()
        return _probe(rows, packed, self.v4)

    def _v4_one(self, text: str) -> bool:
        try:
            number = _FROM_BYTES(_PTON4(text))
        except OSError:
            return True
        return any(number >> shift in keys for shift, keys in self.v4)

    def v6_candidates(self, rows: Sequence[int], texts: Sequence[str]) -> list[int]:
        try:
            numbers = list(map(_FROM_BYTES, map(_PTON6, texts)))
        except OSError:  # one is not a plain IPv6 address: one by one
            return [row for row, text in zip(rows, texts, strict=True) if self._v6_one(text)]
        # IPv4-mapped addresses are looked up as IPv4 by the full path: always candidates.
        mapped = compress(rows, map(_IS_MAPPED, map(rshift, numbers, repeat(32))))
        found = set(mapped)
        if self.v6:
            found.update(_probe(rows, numbers, self.v6))
        return sorted(found)

    def _v6_one(self, text: str) -> bool:
        try:
            number = _FROM_BYTES(_PTON6(text))
        except OSError:
            return True
        return number >> 32 == 0xFFFF or any(number >> shift in keys for shift, keys in self.v6)


def _probe(
    rows: Sequence[int], numbers: Iterable[int], levels: list[tuple[int, set[int]]]
) -> list[int]:
    """The rows whose number, shifted right by a level's bits, is among that level's keys
    (each level over the whole batch, in C)."""
    found: set[int] = set()
    for shift, keys in levels:
        shifted = map(rshift, numbers, repeat(shift)) if shift else numbers
        found.update(compress(rows, map(keys.__contains__, shifted)))
    return sorted(found)


_IS_MAPPED: Final = partial(eq, 0xFFFF)


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
        self._expires: dict[int, float] = {}  # target -> its valid_until (epoch seconds)
        self._pattern_sources: list[tuple[int, str, str]] = []
        self._tables = _Tables()
        self._patterns = PatternIndex()
        self._pattern_targets: dict[int, int] = {}
        self._prefilter: _Prefilter | None = None

    # --- building ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def target_ids(self) -> list[str]:
        return self._ids

    def add_target(self, target: Target, expires: float | None = None) -> int:
        """A new indicator to name in hits; its number for `Entry`. ``expires``: its
        valid_until (epoch seconds), after which it hits nothing."""
        self._ids.append(target.id)
        self._names.append(target.name)
        self._tlps.append(target.tlp)
        self._target_patterns.append(target.pattern)
        self._benign.append(target.benign)
        number = len(self._ids) - 1
        if expires is not None:
            self._expires[number] = expires
        return number

    def add(self, entry: Entry) -> None:
        observable, target = entry.observable, entry.target
        tables = self._tables
        self._prefilter = None
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

    def prepare(self) -> None:
        """Build the batch prefilters now (a scan calls it before it forks its workers, so
        that they inherit them); they are otherwise built on first use."""
        self._prefilters()

    def _prefilters(self) -> _Prefilter:
        found = self._prefilter
        if found is None:
            found = self._prefilter = _Prefilter.of(self._tables)
        return found

    def domain_candidates(self, names: Sequence[bytes]) -> list[int]:
        """The indexes of the DNS names (as a log writes them) that `domain_hits` may find
        something for: a superset, tested for a whole batch at once. A name can only hit
        an indicator of one or two labels when its last two labels are that indicator, and
        one of three or more when its last three labels are the indicator's; so a name's
        last two labels are looked up first (`tails`: those of every indicator), and, for
        the few that are there but are no indicator of their own (`co.uk` under
        `evil.co.uk`), its last three (`deep`)."""
        prefilter = self._prefilters()
        tails, shallow, deep = prefilter.tails, prefilter.shallow, prefilter.deep
        if not tails:
            return []
        normalised = _lower_no_dot(names)
        return [
            index
            for index, name in enumerate(normalised)
            if (tail := name[name.rfind(b".", 0, name.rfind(b".")) + 1 :]) in tails
            and (tail in shallow or _last_three(name) in deep)
        ]

    def address_candidates(self, cells: Sequence[bytes]) -> list[int]:
        """The indexes of the address cells (as a log writes them) that may hit: a
        superset of those the full path (`parse_address`, `value_hits`) finds anything
        for, tested for a whole batch at once. Without networks, an exact entry's text
        (`may_hit_address`); with them, the address's leading bits against those of every
        address and network held, at a few prefix lengths (`_Prefilter`). A cell that
        is not a plain address (unset, a zone index, a network, an IPv4-mapped IPv6
        address) is always a candidate: the full path decides."""
        prefilter = self._prefilters()
        if not self._tables.networks:
            exact = prefilter.exact_addresses
            return [index for index, cell in enumerate(cells) if cell in exact]
        try:
            texts = list(map(bytes.decode, cells))
        except UnicodeDecodeError:
            return list(range(len(cells)))
        six = [index for index, text in enumerate(texts) if ":" in text]
        if not six:
            return prefilter.v4_candidates(range(len(texts)), texts)
        six_set = set(six)
        four = [index for index in range(len(texts)) if index not in six_set]
        found = set(prefilter.v4_candidates(four, [texts[index] for index in four]))
        found.update(prefilter.v6_candidates(six, [texts[index] for index in six]))
        return sorted(found)

    def value_hits(self, observable: Observable) -> list[Hit]:
        """Every hit for one normalised value, in the order: exact, network, parent, URL
        forms, host, pattern."""
        raw = self._raw_hits(observable)
        if self._pattern_targets:
            raw.extend(self._pattern_hits(observable))
        out: list[Hit] = []
        seen: set[tuple[str, int]] = set()
        expires, now = self._expires, time.time()
        for relation, via, targets in raw:
            for number in numbers_of(targets):
                if expires and expires.get(number, now + 1) <= now:
                    continue  # its valid_until passed
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
        observation = observations.of_value(observable)
        if observation is None:
            return []
        matched = self._patterns.match(observation, errors=[])
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

_FORMAT: Final = 2
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
            matcher._expires,
        )
    )


def loads(data: bytes) -> Matcher | None:
    """A matcher from `dumps`, or None when the bytes are of another format or damaged."""
    try:
        # Without the collector: the networks' tuples, by the hundred thousand, would set
        # off full collections over a growing heap (1,000,000 addresses and networks:
        # measured 1.2 s with it, 0.65 s without).
        with collector_paused():
            loaded = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(loaded, tuple) or len(loaded) != 12 or loaded[0] != _FORMAT:
        return None
    _, targets, *columns, patterns, expires = loaded
    matcher = Matcher([])
    (
        matcher._ids,
        matcher._names,
        matcher._tlps,
        matcher._target_patterns,
        matcher._benign,
    ) = targets
    matcher._benign = bytearray(matcher._benign)
    matcher._expires = expires
    matcher._tables = _Tables(*columns)
    with collector_paused():
        for target, pattern, version in patterns:
            matcher.add_pattern(target, pattern, version)
    return matcher
