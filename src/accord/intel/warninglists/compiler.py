"""Compiling the MISP warninglists into one index file that loads without parsing.

Each list's `type` (https://github.com/MISP/misp-warninglists#format-of-a-warning-list)
decides how its entries are kept:

- ``cidr``: every entry becomes an integer range; all ranges of all lists are cut into
  elementary segments (a sweep over their ends), each carrying the set of entries that cover
  it, so one bisect answers "which entries contain this address". IPv4 as 32-bit arrays in the
  file; IPv6 (a few thousand ranges) as Python integers.
- ``string``: exact values, normalised with the project's normaliser (`detect`) so that a
  list's "8.8.8.8" or "https://www.google.com" meets the index's canonical text; the entry as
  written and lower-cased are kept too.
- ``hostname``: a domain and every name below it ("dyndns.org" flags "checkip.dyndns.org").
- ``substring`` and ``regex``: kept as text and compiled when loaded (a few thousand entries).

Exact and hostname entries share one key table: keys in hash buckets (CRC-32 of the key), a
bucket's records contiguous in one byte blob (``"key\\tN\\n"``), so that a look-up is one
`find` within a bucket of a memory-mapped file, and loading it costs nothing. N points at the
key's entries: (list, flag) pairs, the flag saying whether the entry matches the key itself
(1) and names below it (2).
"""

from __future__ import annotations

import ipaddress
import math
import re
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from accord.intel.warninglists.classes import ListClass, class_of
from accord.intel.warninglists.source import FALSE_POSITIVE, URL, ListSource, groups_for
from accord.model.domains import canonical_domain
from accord.model.observables import ObservableError, detect

FORMAT: Final = 8  # bump when the file layout or the compilation rules change
EXACT: Final = 1
BELOW: Final = 2
KEYS_PER_BUCKET: Final = 6
# A bit per possible value of the low 27 bits of a key's CRC-32 (16 MiB): most names checked
# are on no list, and the bit says so before the bucket is searched (about 1.6% false
# positives at two million keys).
BLOOM_BITS: Final = 27
BLOOM_MASK: Final = (1 << BLOOM_BITS) - 1


@dataclass(frozen=True, slots=True)
class ListInfo:
    name: str
    description: str
    category: str
    type: str
    groups: int
    entries: int
    list_class: ListClass
    """What the list means for a verdict (`classes`): "benign" or "context"."""
    reason: str
    """Why it has that class, one line."""


@dataclass(slots=True)
class Compiled:
    """Everything the index file holds; `layout.write` lays it out."""

    lists: list[ListInfo] = field(default_factory=list)
    arrays: dict[str, array[int]] = field(default_factory=dict)
    blob: bytes = b""
    meta: dict[str, Any] = field(default_factory=dict)


SMALL_KEY: Final = 30


def is_small_key(key: str) -> bool:
    """Keys kept in memory rather than in the key table: single labels (top-level domains,
    the last step of every suffix walk) and addresses (every IP look-up). A few thousand."""
    if "." not in key:
        return len(key) <= SMALL_KEY
    return (key[0].isdigit() and key[-1].isdigit()) or ":" in key


def key_bucket(key: str, mask: int) -> tuple[bytes, int]:
    """The bytes searched for and the bucket of `key` (shared by compiler and index)."""
    needle = ("\n" + key + "\t").encode()
    return needle, zlib.crc32(needle) & mask


_REGEX: Final = re.compile(r"^/(.*)/([a-zA-Z]*)$", re.DOTALL)
_REGEX_FLAGS: Final[dict[str, int]] = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def python_regex(text: str) -> tuple[str, int] | None:
    """A MISP regex entry ("/pattern/flags", PCRE) as a Python pattern and flags; None when
    Python's `re` cannot compile it."""
    found = _REGEX.match(text.strip())
    pattern, letters = (found.group(1), found.group(2)) if found else (text.strip(), "")
    flags = 0
    for letter in letters:
        flags |= _REGEX_FLAGS.get(letter.lower(), 0)  # "g" (global) means nothing here
    try:
        re.compile(pattern, flags)
    except re.error:
        return None
    return pattern, flags


class _Keys:
    """key -> packed (list index << 2 | flag) values, memory-lean for two million keys."""

    def __init__(self) -> None:
        self.table: dict[str, int | list[int]] = {}

    def add(self, key: str, list_index: int, flag: int) -> None:
        if not key or "\n" in key or "\t" in key:
            return
        packed = list_index << 2 | flag
        found = self.table.get(key)
        if found is None:
            self.table[key] = packed
        elif isinstance(found, int):
            if found != packed:
                self.table[key] = [found, packed]
        elif packed not in found:
            found.append(packed)


def _packed(packed: int | list[int]) -> list[int]:
    return [packed] if isinstance(packed, int) else packed


# Text that is already canonical as a domain name or a hex hash: most of the million-entry
# lists, which so skip detection.
_CANONICAL: Final = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


def _exact_keys(entry: str) -> set[str]:
    text = entry.strip()
    if _CANONICAL.fullmatch(text) and not text.rpartition(".")[2].isdigit():
        return {text}
    keys = {text, text.lower()}
    observable = detect(text)
    if observable is not None:
        keys.add(observable.value)
    return keys


def _hostname_key(entry: str) -> str | None:
    text = entry.strip().lower().removeprefix("*").lstrip(".").rstrip(".")
    try:
        return canonical_domain(text)
    except ObservableError:
        return None


def _ranges(entry: str) -> tuple[int, int, int, str] | None:
    """(IP version, first, last, canonical text) of a CIDR list entry."""
    try:
        network = ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None
    first = int(network.network_address)
    # A single address is written as one, like the observable index writes it.
    single = network.prefixlen == network.max_prefixlen
    text = str(network.network_address) if single else network.compressed
    return network.version, first, int(network.broadcast_address), text


def compile_source(source: ListSource) -> Compiled:
    compiled = Compiled()
    keys = _Keys()
    cidrs: list[tuple[int, int, int, int, str]] = []  # version, first, last, list, text
    substrings: list[tuple[int, str]] = []
    regexes: list[tuple[int, str, int]] = []
    skipped: dict[str, int] = {}
    for document in source.read():
        index = len(compiled.lists)
        entries = [str(entry) for entry in document["list"] if str(entry).strip()]
        kind = str(document.get("type", "string"))
        list_name = str(document["name"])
        list_class, reason = class_of(list_name)
        compiled.lists.append(
            ListInfo(
                name=list_name,
                description=str(document.get("description", "")),
                category=str(document.get("category") or FALSE_POSITIVE).replace("_", "-"),
                type=kind,
                groups=groups_for(document.get("matching_attributes")),
                entries=len(entries),
                list_class=list_class,
                reason=reason,
            )
        )
        bad = 0
        for entry in entries:
            if kind == "cidr":
                found = _ranges(entry)
                if found is None:
                    bad += 1
                    continue
                cidrs.append((found[0], found[1], found[2], index, found[3]))
            elif kind == "hostname":
                name = _hostname_key(entry)
                if name is not None:
                    keys.add(name, index, EXACT | BELOW)
                else:
                    observable = detect(entry)
                    if observable is None:
                        bad += 1
                    else:
                        keys.add(observable.value, index, EXACT)
            elif kind == "substring":
                substrings.append((index, entry.strip().lower()))
            elif kind == "regex":
                regex = python_regex(entry)
                if regex is None:
                    bad += 1
                else:
                    regexes.append((index, *regex))
            else:  # "string", and any type MISP may add later: exact values
                for key in _exact_keys(entry):
                    keys.add(key, index, EXACT)
        if bad:
            skipped[compiled.lists[index].name] = bad
    # Whether any exact key could equal a URL (they have a "/"): if none can, a URL's own
    # text is not looked up, only its host.
    url_lists = {index for index, info in enumerate(compiled.lists) if info.groups & URL}
    compiled.meta["url_keys"] = any(
        "/" in key and not url_lists.isdisjoint(value >> 2 for value in _packed(packed))
        for key, packed in keys.table.items()
    )
    small = {key: keys.table.pop(key) for key in [k for k in keys.table if is_small_key(k)]}
    compiled.meta["small_keys"] = {key: tuple(_packed(packed)) for key, packed in small.items()}
    _lay_out_keys(compiled, keys)
    _lay_out_cidrs(compiled, cidrs)
    compiled.meta.update(
        substrings=substrings,
        regexes=regexes,
        skipped=skipped,
        keys=len(keys.table),
        cidr_entries=len(cidrs),
    )
    return compiled


def _lay_out_keys(compiled: Compiled, keys: _Keys) -> None:
    count = len(keys.table)
    bits = max(4, math.ceil(math.log2(max(count, 1) / KEYS_PER_BUCKET + 1)))
    mask = (1 << bits) - 1
    buckets: list[list[str]] = [[] for _ in range(mask + 1)]
    bloom = bytearray(1 << (BLOOM_BITS - 3))
    for key in keys.table:
        code = zlib.crc32(key_bucket(key, mask)[0])
        bloom[(code & BLOOM_MASK) >> 3] |= 1 << (code & 7)
        buckets[code & mask].append(key)
    parts: list[bytes] = [b"\n"]
    size = 1
    bucket_offsets = array("I")
    entry_offsets = array("I", [0])
    entry_lists = array("H")
    entry_flags = array("B")
    number = 0
    for bucket in buckets:
        bucket_offsets.append(size)
        for key in bucket:
            record = f"{key}\t{number}\n".encode()
            parts.append(record)
            size += len(record)
            number += 1
            packed = keys.table[key]
            for value in _packed(packed):
                entry_lists.append(value >> 2)
                entry_flags.append(value & 3)
            entry_offsets.append(len(entry_lists))
    bucket_offsets.append(size)
    compiled.blob = b"".join(parts)
    compiled.meta["bucket_mask"] = mask
    compiled.arrays.update(
        bucket_offsets=bucket_offsets,
        entry_offsets=entry_offsets,
        entry_lists=entry_lists,
        entry_flags=entry_flags,
        bloom=array("B", bytes(bloom)),
    )


def _segments(ranges: Iterable[tuple[int, int, int]]) -> tuple[list[int], list[tuple[int, ...]]]:
    """Cut ranges (first, last, entry) into elementary segments: their starts, and the sorted
    entries covering each (empty where none does). Adjacent equal segments are merged."""
    events: dict[int, list[tuple[int, int]]] = {}
    for first, last, entry in ranges:
        events.setdefault(first, []).append((1, entry))
        events.setdefault(last + 1, []).append((-1, entry))
    active: set[int] = set()
    starts: list[int] = [0]
    covers: list[tuple[int, ...]] = [()]
    for point in sorted(events):
        for sign, entry in events[point]:
            if sign > 0:
                active.add(entry)
            else:
                active.discard(entry)
        cover = tuple(sorted(active))
        if cover == covers[-1]:
            continue
        if starts[-1] == point:
            covers[-1] = cover
        else:
            starts.append(point)
            covers.append(cover)
    return starts, covers


def _lay_out_cidrs(compiled: Compiled, cidrs: list[tuple[int, int, int, int, str]]) -> None:
    cidr_lists = array("H", (entry[3] for entry in cidrs))
    texts = [entry[4] for entry in cidrs]
    cover_ids: dict[tuple[int, ...], int] = {(): 0}
    cover_offsets = array("I", [0])
    cover_entries = array("I")

    def intern(cover: tuple[int, ...]) -> int:
        found = cover_ids.get(cover)
        if found is None:
            found = cover_ids[cover] = len(cover_ids)
            cover_entries.extend(cover)
            cover_offsets.append(len(cover_entries))
        return found

    v4 = [(first, last, n) for n, (version, first, last, _, _) in enumerate(cidrs) if version == 4]
    v6 = [(first, last, n) for n, (version, first, last, _, _) in enumerate(cidrs) if version == 6]
    v4_starts, v4_covers = _segments(v4)
    v6_starts, v6_covers = _segments(v6)
    if v4_starts[-1] == 1 << 32:  # the end of the last range that reaches 255.255.255.255
        v4_starts.pop()
        v4_covers.pop()
    # Where each /16 begins among the starts: an address is then bisected among the few
    # starts inside its own /16, not among all of them.
    v4_prefixes = array("I", (bisect_left(v4_starts, prefix << 16) for prefix in range(1 << 16)))
    v4_prefixes.append(len(v4_starts))
    compiled.arrays.update(
        v4_prefixes=v4_prefixes,
        v4_starts=array("I", v4_starts),
        v4_covers=array("I", (intern(cover) for cover in v4_covers)),
        cidr_lists=cidr_lists,
    )
    v6_cover_ids = [intern(cover) for cover in v6_covers]
    compiled.arrays.update(cover_offsets=cover_offsets, cover_entries=cover_entries)
    compiled.meta.update(v6_starts=v6_starts, v6_covers=v6_cover_ids, cidr_texts="\n".join(texts))
