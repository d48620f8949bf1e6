"""Checking observables against the compiled MISP warninglists.

`WarningLists.load()` maps the index file from the cache (building it first when the
installed lists changed), and `check` answers which lists an observable is on. A look-up
costs a bisect for an address, one `find` in a hash bucket per label of a domain, and a set
of short substrings for the few substring lists.
"""

from __future__ import annotations

import os
import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from zlib import crc32

from accord.intel.warninglists import layout
from accord.intel.warninglists.compiler import (
    BELOW,
    EXACT,
    SMALL_KEY,
    compile_source,
)
from accord.intel.warninglists.source import (
    DOMAIN,
    GROUP_OF_KIND,
    IP,
    URL,
    ListSource,
    package_source,
)
from accord.model.observables import Observable, detect

DEFAULT_CACHE_DIR: Final = Path("var/cache")
_ADDRESS_TEXT: Final = re.compile(r"[0-9a-f.:/]+")


def default_cache_dir() -> Path:
    """``$ACCORD_CACHE_DIR``, else ``var/cache`` (beside the default SQLite database)."""
    return Path(os.environ.get("ACCORD_CACHE_DIR") or DEFAULT_CACHE_DIR)


@dataclass(frozen=True, slots=True)
class WarningHit:
    """One warninglist a value is on."""

    list_name: str
    """The list's name, e.g. "List of known IPv4 public DNS resolvers"."""
    description: str
    category: str
    """The list's MISP category: "false-positive" (the default) or "known"."""
    matched: str
    """The entry that matched, normalised: a CIDR, a domain suffix, an exact value, a
    substring or a regular expression."""


@dataclass(frozen=True, slots=True)
class LoadInfo:
    path: Path
    built: bool
    """Whether this load compiled the lists (False: an existing index was reused)."""
    seconds: float


class WarningLists:
    """The MISP warninglists, compiled; build with :meth:`load`."""

    def __init__(self, mapped: layout.Mapped, info: LoadInfo) -> None:
        self.info = info
        header = mapped.header
        meta = header["meta"]
        self._mapped = mapped
        self._lists: list[tuple[str, str, str, str, int, int]] = header["lists"]
        self._map = mapped.map
        self._blob_start, _ = mapped.blob_bounds()
        self._find = self._map.find
        self._mask: int = meta["bucket_mask"]
        self._bucket_offsets = mapped.array("bucket_offsets")
        self._entry_offsets = mapped.array("entry_offsets")
        self._entry_lists = mapped.array("entry_lists")
        self._entry_flags = mapped.array("entry_flags")
        self._v4_starts = mapped.array("v4_starts")
        self._v4_covers = mapped.array("v4_covers")
        self._v6_starts: list[int] = meta["v6_starts"]
        self._v6_covers: list[int] = meta["v6_covers"]
        self._cover_offsets = mapped.array("cover_offsets")
        self._cover_entries = mapped.array("cover_entries")
        self._cidr_lists = mapped.array("cidr_lists")
        self._cidr_text: str = meta["cidr_texts"]
        self._cidr_texts: list[str] | None = None
        self._hits: dict[tuple[int, str], WarningHit] = {}
        self._cover_hits: dict[tuple[int, int], list[WarningHit]] = {}
        self._small: dict[str, tuple[int, ...]] = meta["small_keys"]
        # A list for "domain|ip" attributes applies to addresses, but only its entries that
        # could be part of an address can match one: not the 5,000 disposable e-mail domains.
        self._substring_matchers = {
            group: _SubstringMatcher.build(
                [
                    (i, text)
                    for i, text in meta["substrings"]
                    if self._lists[i][4] & group and (group != IP or _ADDRESS_TEXT.fullmatch(text))
                ]
            )
            for group in GROUP_OF_KIND.values()
        }
        self._regexes = [
            (list_index, re.compile(pattern, flags))
            for list_index, pattern, flags in meta["regexes"]
        ]
        self._regex_groups = 0
        for list_index, _ in self._regexes:
            self._regex_groups |= self._lists[list_index][4]

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, cache_dir: Path | None = None, source: ListSource | None = None) -> WarningLists:
        """The compiled lists from `cache_dir` (default `default_cache_dir()`), compiled and
        cached first if the installed lists are not compiled yet. `source` defaults to the
        lists that the `pymispwarninglists` package ships."""
        start = time.perf_counter()
        source = source or package_source()
        fingerprint = source.fingerprint()
        path = (cache_dir or default_cache_dir()) / layout.file_name(fingerprint)
        built = False
        if not path.is_file():
            compiled = compile_source(source)
            header = {"fingerprint": fingerprint, "version": source.package_version}
            header["content_sha256"] = source.content_sha256()
            layout.write(path, compiled, header)
            built = True
        mapped = layout.Mapped(path)
        return cls(mapped, LoadInfo(path, built, time.perf_counter() - start))

    @property
    def list_names(self) -> list[str]:
        return [entry[0] for entry in self._lists]

    @property
    def header(self) -> dict[str, object]:
        return {
            k: v for k, v in self._mapped.header.items() if k not in ("meta", "sections", "lists")
        }

    # -- checking ------------------------------------------------------------------------

    def check_value(self, text: str) -> list[WarningHit]:
        """Detect what `text` is and check it; [] when it is not an observable."""
        observable = detect(text)
        return [] if observable is None else self.check(observable)

    def check(self, observable: Observable) -> list[WarningHit]:
        """Every list `observable` is on, one hit per list (the most specific entry)."""
        group = GROUP_OF_KIND.get(observable.kind, 0)
        if not group:
            return []
        hits: list[WarningHit] = []
        value = observable.value
        if group == IP:
            packed = self._small.get(value)
            if packed is not None:
                self._packed(packed, value, EXACT, group, hits)
            self._cidr(observable, group, hits)
        elif group == DOMAIN:
            self._name(value, group, hits)
        elif group == URL:
            self._exact(value, group, hits)
            host = observable.host
            if host is not None:
                if observable.rdomain is not None:
                    self._name(host, group, hits)
                else:
                    self._exact(host, group, hits)
                    if ":" not in host:
                        address = int.from_bytes(bytes(map(int, host.split("."))), "big")
                        self._v4_address(address, group, hits)
        else:
            self._exact(value, group, hits)
        substrings = self._substring_matchers[group]
        if substrings is not None:
            for list_index, entry in substrings.find(value.lower()):
                if self._lists[list_index][4] & group:
                    hits.append(self._hit(list_index, entry))
        if self._regex_groups & group:
            for list_index, regex in self._regexes:
                if self._lists[list_index][4] & group and regex.search(value):
                    hits.append(self._hit(list_index, regex.pattern))
        if len(hits) > 1:
            return _one_per_list(hits)
        return hits

    def _key(self, key: str) -> int:
        """The number of `key` in the key table, or -1 (`key_bucket`, inlined: this is the
        innermost loop of every check)."""
        needle = ("\n" + key + "\t").encode()
        bucket = crc32(needle) & self._mask
        offsets = self._bucket_offsets
        base = self._blob_start
        position = self._find(needle, base + offsets[bucket] - 1, base + offsets[bucket + 1])
        if position < 0:
            return -1
        start = position + len(needle)
        return int(self._map[start : self._find(b"\n", start)])

    def _exact(self, value: str, group: int, hits: list[WarningHit]) -> None:
        # is_small_key, inlined
        if "." not in value:
            small = len(value) <= SMALL_KEY
        else:
            small = (value[0].isdigit() and value[-1].isdigit()) or ":" in value
        if small:
            packed = self._small.get(value)
            if packed is not None:
                self._packed(packed, value, EXACT, group, hits)
            return
        number = self._key(value)
        if number >= 0:
            self._entries(number, value, EXACT, group, hits)

    def _name(self, name: str, group: int, hits: list[WarningHit]) -> None:
        """A domain name: its exact entries, then the hostname entries of each parent."""
        self._exact(name, group, hits)
        dot = name.find(".")
        while dot >= 0:
            name = name[dot + 1 :]
            dot = name.find(".")
            if dot < 0:
                packed = self._small.get(name)
                if packed is not None:
                    self._packed(packed, name, BELOW, group, hits)
                return
            number = self._key(name)
            if number >= 0:
                self._entries(number, name, BELOW, group, hits)

    def _packed(
        self, packed: tuple[int, ...], key: str, flag: int, group: int, hits: list[WarningHit]
    ) -> None:
        for value in packed:
            list_index = value >> 2
            if value & flag and self._lists[list_index][4] & group:
                hits.append(self._hit(list_index, key))

    def _entries(
        self, number: int, key: str, flag: int, group: int, hits: list[WarningHit]
    ) -> None:
        lists = self._lists
        for position in range(self._entry_offsets[number], self._entry_offsets[number + 1]):
            list_index = self._entry_lists[position]
            if self._entry_flags[position] & flag and lists[list_index][4] & group:
                hits.append(self._hit(list_index, key))

    def _cidr(self, observable: Observable, group: int, hits: list[WarningHit]) -> None:
        if observable.lo is None or observable.hi is None:
            return
        lo, hi = int(observable.lo, 16), int(observable.hi, 16)
        if len(observable.lo) == 8:
            starts, covers = self._v4_starts, self._v4_covers
        else:
            starts, covers = self._v6_starts, self._v6_covers  # type: ignore[assignment]
        cover = covers[bisect_right(starts, lo) - 1]
        if cover and lo != hi:
            # A network is on a list when one entry covers both its ends (entries are ranges).
            last = covers[bisect_right(starts, hi) - 1]
            if last != cover:
                both = set(self._cover(cover)) & set(self._cover(last))
                for entry in sorted(both):
                    hits.extend(self._cidr_hits_of([entry], group))
                return
        if cover:
            hits.extend(self._cover_hits_for(cover, group))

    def _v4_address(self, number: int, group: int, hits: list[WarningHit]) -> None:
        cover = self._v4_covers[bisect_right(self._v4_starts, number) - 1]
        if cover:
            hits.extend(self._cover_hits_for(cover, group))

    def _cover(self, cover: int) -> list[int]:
        return list(
            self._cover_entries[self._cover_offsets[cover - 1] : self._cover_offsets[cover]]
        )

    def _cover_hits_for(self, cover: int, group: int) -> list[WarningHit]:
        found = self._cover_hits.get((cover, group))
        if found is None:
            found = self._cover_hits[(cover, group)] = self._cidr_hits_of(self._cover(cover), group)
        return found

    def _cidr_hits_of(self, entries: list[int], group: int) -> list[WarningHit]:
        if self._cidr_texts is None:
            self._cidr_texts = self._cidr_text.split("\n")
        texts = self._cidr_texts
        return [
            self._hit(self._cidr_lists[entry], texts[entry])
            for entry in entries
            if self._lists[self._cidr_lists[entry]][4] & group
        ]

    def _hit(self, list_index: int, matched: str) -> WarningHit:
        found = self._hits.get((list_index, matched))
        if found is None:
            name, description, category, _, _, _ = self._lists[list_index]
            found = WarningHit(name, description, category, matched)
            self._hits[(list_index, matched)] = found
        return found


def _one_per_list(hits: list[WarningHit]) -> list[WarningHit]:
    seen: dict[str, WarningHit] = {}
    for hit in hits:
        seen.setdefault(hit.list_name, hit)
    return list(seen.values())


class _SubstringMatcher:
    """The substring-list entries that apply to one group of observables.

    Few entries: one regular expression of them all answers "none" at C speed. Many (the
    5,000 disposable e-mail domains): each entry is indexed by its `size`-grams at its first
    `stride` offsets, so that a value's grams need only be cut at every `stride`-th position
    (an occurrence of an entry at p covers a cut at p or just after it, and the entry is long
    enough to hold a whole gram from there). Either way a candidate is confirmed with `in`.
    """

    FEW: Final = 64
    GRAM: Final = 4

    def __init__(self, entries: list[tuple[int, str]]) -> None:
        self.entries = entries
        shortest = min(len(text) for _, text in entries)
        self.size = min(self.GRAM, shortest)
        self.stride = shortest - self.size + 1
        self.regex: re.Pattern[str] | None = None
        self.by_gram: dict[str, list[tuple[int, str]]] = {}
        if len(entries) <= self.FEW:
            self.regex = re.compile("|".join(re.escape(text) for _, text in entries))
        else:
            for list_index, text in entries:
                for offset in range(self.stride):
                    gram = text[offset : offset + self.size]
                    self.by_gram.setdefault(gram, []).append((list_index, text))
        self.grams = frozenset(self.by_gram)
        self.cuts: dict[int, tuple[slice, ...]] = {}

    @classmethod
    def build(cls, entries: list[tuple[int, str]]) -> _SubstringMatcher | None:
        entries = [(list_index, text) for list_index, text in entries if text]
        return cls(entries) if entries else None

    def find(self, text: str) -> list[tuple[int, str]]:
        if self.regex is not None:
            if self.regex.search(text) is None:
                return []
            return [(list_index, entry) for list_index, entry in self.entries if entry in text]
        cuts = self.cuts.get(len(text))
        if cuts is None:
            size = self.size
            cuts = self.cuts[len(text)] = tuple(
                slice(i, i + size) for i in range(0, len(text) - size + 1, self.stride)
            )
        if self.grams.isdisjoint(map(text.__getitem__, cuts)):
            return []
        found = {
            (list_index, entry)
            for gram in self.grams.intersection(map(text.__getitem__, cuts))
            for list_index, entry in self.by_gram[gram]
            if entry in text
        }
        return sorted(found)
