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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from zlib import crc32

from accord.intel.warninglists import classes, layout
from accord.intel.warninglists.classes import DEFAULT_CLASS, ListClass
from accord.intel.warninglists.compiler import (
    BELOW,
    BLOOM_MASK,
    EXACT,
    SMALL_KEY,
    ListInfo,
    compile_source,
)
from accord.intel.warninglists.source import (
    DOMAIN,
    GROUP_OF_KIND,
    IP,
    URL,
    ListSource,
    default_source,
)
from accord.model.observables import Observable, detect

DEFAULT_CACHE_DIR: Final = Path("var/cache")
HIT_CACHE: Final = 100_000  # keys whose hits are remembered (popular parents recur)
_ADDRESS_CHARS: Final = frozenset("0123456789abcdef.:/")
_LOWER_GROUPS: Final = IP | DOMAIN


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
    list_class: ListClass = DEFAULT_CLASS
    """What the list means for a verdict (`accord.intel.warninglists.classes`): "benign"
    (its values are benign by nature: the score is damped) or "context" (shared
    infrastructure: shown, no effect on the score)."""
    reason: str = ""
    """Why the list has that class, one line."""


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
        self._lists: list[tuple[str, str, str, str, int, int, ListClass, str]] = header["lists"]
        self._map = mapped.map
        self._blob_start, _ = mapped.blob_bounds()
        self._find = self._map.find
        self._mask: int = meta["bucket_mask"]
        self._bucket_offsets = mapped.array("bucket_offsets")
        self._entry_offsets = mapped.array("entry_offsets")
        self._entry_lists = mapped.array("entry_lists")
        self._entry_flags = mapped.array("entry_flags")
        self._bloom = mapped.array("bloom")
        self._v4_starts = mapped.array("v4_starts")
        self._v4_prefixes = mapped.array("v4_prefixes")
        self._url_keys: bool = meta["url_keys"]
        self._v4_covers = mapped.array("v4_covers")
        self._v6_starts: list[int] = meta["v6_starts"]
        self._v6_covers: list[int] = meta["v6_covers"]
        self._cover_offsets = mapped.array("cover_offsets")
        self._cover_entries = mapped.array("cover_entries")
        self._cidr_lists = mapped.array("cidr_lists")
        self._cidr_text: str = meta["cidr_texts"]
        self._cidr_texts: list[str] | None = None
        self._hits: dict[tuple[int, str], WarningHit] = {}
        self._entry_hits: dict[int, tuple[WarningHit, ...]] = {}
        self._cover_hits: dict[tuple[int, int], list[WarningHit]] = {}
        self._small: dict[str, tuple[int, ...]] = meta["small_keys"]
        # An address's canonical text has only hex digits, ".", ":" and "/": a substring
        # entry with any other character can never be inside one.
        self._substring_matchers = {
            group: _SubstringMatcher.build(
                [
                    (i, text)
                    for i, text in meta["substrings"]
                    if self._lists[i][4] & group and (group != IP or set(text) <= _ADDRESS_CHARS)
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
        self.check = self._build_check()

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, cache_dir: Path | None = None, source: ListSource | None = None) -> WarningLists:
        """The compiled lists from `cache_dir` (default `default_cache_dir()`), compiled and
        cached first if the installed lists are not compiled yet. `source` defaults to the
        lists that the `pymispwarninglists` package ships."""
        start = time.perf_counter()
        source = source or default_source()
        path = index_path(source, cache_dir)
        fingerprint = _fingerprint(source)
        built = False
        if not path.is_file():
            compiled = compile_source(source)
            header = {"fingerprint": fingerprint, "version": source.package_version}
            header["content_sha256"] = source.content_sha256()
            layout.write(path, compiled, header)
            built = True
            # Indexes of other list sets or formats are stale; a process that has one mapped
            # keeps reading it (unlinking does not unmap).
            for stale in path.parent.glob("warninglists-*.idx"):
                if stale != path:
                    stale.unlink(missing_ok=True)
        mapped = layout.Mapped(path)
        return cls(mapped, LoadInfo(path, built, time.perf_counter() - start))

    @property
    def path(self) -> Path:
        """The index file this was mapped from: its name holds the lists' fingerprint."""
        return self.info.path

    @property
    def list_names(self) -> list[str]:
        return [entry[0] for entry in self._lists]

    @property
    def lists(self) -> list[ListInfo]:
        """Each compiled list: name, description, category, type, the observables it applies
        to, entries, and its class (`classes`) and why."""
        return [ListInfo(*entry) for entry in self._lists]

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

    check: Callable[[Observable], list[WarningHit]]
    """Every list an observable is on, one hit per list (the most specific entry); set by
    `__init__` from `_build_check`."""

    def _build_check(self) -> Callable[[Observable], list[WarningHit]]:
        """`check`: one closure over the index's arrays and caches, held in local variables.

        This is the hot path of every look-up and of list ingest, where an attribute look-up
        or a Python call costs as much as a dict look-up: each group does only what its lists
        need, the key look-up and the walk up a domain's parents are inlined, and the hits of
        small keys (top-level labels, the last step of every walk) are remembered.
        """
        group_of = GROUP_OF_KIND.get
        small_get = self._small.get
        lists = self._lists
        find, mapped, base, mask = self._find, self._map, self._blob_start, self._mask
        offsets, bloom = self._bucket_offsets, self._bloom
        # The IPv4 segment starts and where each /16 begins among them, as lists made on the
        # first IPv4 check (a few milliseconds) and published whole (threads may race to make
        # them; each makes complete ones): indexing and bisecting a list costs less than the
        # mapped array.
        v4_lists: list[tuple[list[int], list[int]] | None] = [None]
        v4_covers = self._v4_covers

        def v4_cover(address: int) -> int:
            """The cover of an IPv4 address: a bisect among the starts inside its /16."""
            found = v4_lists[0]
            if found is None:
                found = v4_lists[0] = (self._v4_starts.tolist(), self._v4_prefixes.tolist())
            starts, prefixes = found
            prefix = address >> 16
            return v4_covers[
                bisect_right(starts, address, prefixes[prefix], prefixes[prefix + 1]) - 1
            ]

        entry_hits_get = self._entry_hits.get
        entries, hit, cidr = self._entries, self._hit, self._cidr
        cover_hits_for = self._cover_hits_for
        ip_covers: dict[int, list[WarningHit]] = {}
        regexes, regex_groups = self._regexes, self._regex_groups
        url_keys = self._url_keys
        matchers = self._substring_matchers
        # Hits of a small key for one (flag, group): keys that are on no list are not kept,
        # so the caches stay as small as the small-key table.
        small_hits: dict[int, dict[str, tuple[WarningHit, ...]]] = {
            (flag << 5) | group: {} for flag in (EXACT, BELOW) for group in matchers
        }

        def small_into(key: str, flag: int, group: int, hits: list[WarningHit]) -> None:
            cache = small_hits[(flag << 5) | group]
            found = cache.get(key)
            if found is None:
                packed = small_get(key)
                if packed is None:
                    return
                found = cache[key] = tuple(
                    hit(value >> 2, key)
                    for value in packed
                    if value & flag and lists[value >> 2][4] & group
                )
            if found:
                hits.extend(found)

        def key_into(key: str, flag: int, group: int, hits: list[WarningHit]) -> None:
            """The entries of `key` in the key table (`key_bucket`, inlined)."""
            needle = ("\n" + key + "\t").encode()
            code = crc32(needle)
            bit = code & BLOOM_MASK
            if not bloom[bit >> 3] >> (bit & 7) & 1:
                return
            bucket = code & mask
            position = find(needle, base + offsets[bucket] - 1, base + offsets[bucket + 1])
            if position < 0:
                return
            start = position + len(needle)
            number = int(mapped[start : find(b"\n", start)])
            found = entry_hits_get((number << 8) | (flag << 5) | group)
            if found is None:
                entries(number, key, flag, group, hits)
            else:
                hits.extend(found)

        def exact_into(value: str, group: int, hits: list[WarningHit]) -> None:
            if "." not in value:  # is_small_key, inlined
                small = len(value) <= SMALL_KEY
            else:
                small = (value[0].isdigit() and value[-1].isdigit()) or ":" in value
            if small:
                small_into(value, EXACT, group, hits)
                return
            needle = ("\n" + value + "\t").encode()  # the bloom test of key_into, inlined
            code = crc32(needle)
            bit = code & BLOOM_MASK
            if bloom[bit >> 3] >> (bit & 7) & 1:
                key_into(value, EXACT, group, hits)

        def name_into(name: str, group: int, hits: list[WarningHit]) -> None:
            """A domain name: its exact entries, then the hostname entries of each parent."""
            flag = EXACT
            if (name[0].isdigit() and name[-1].isdigit()) or ":" in name:  # `is_small_key`
                exact_into(name, group, hits)
                flag = BELOW
                name = name.partition(".")[2]
            while name:
                dot = name.find(".")
                if dot < 0 and len(name) <= SMALL_KEY:  # the top-level label: a small key
                    found = small_hits[(flag << 5) | group].get(name)
                    if found is None:
                        small_into(name, flag, group, hits)
                    elif found:
                        hits.extend(found)
                    return
                # key_into, inlined: two or three of these for every domain and URL
                needle = ("\n" + name + "\t").encode()
                code = crc32(needle)
                bit = code & BLOOM_MASK
                if bloom[bit >> 3] >> (bit & 7) & 1:
                    key_into(name, flag, group, hits)
                if dot < 0:
                    return
                name = name[dot + 1 :]
                flag = BELOW

        def check(observable: Observable) -> list[WarningHit]:
            group = group_of(observable.kind)
            hits: list[WarningHit] = []
            value = observable.value
            if group == DOMAIN:
                name_into(value, DOMAIN, hits)
            elif group == IP:
                if small_get(value) is not None:
                    small_into(value, EXACT, IP, hits)
                lo = observable.lo
                if lo is not None and len(lo) == 8 and lo == observable.hi:  # one IPv4 address
                    cover = v4_cover(int(lo, 16))
                    if cover:
                        found = ip_covers.get(cover)
                        if found is None:
                            found = ip_covers[cover] = cover_hits_for(cover, IP)
                        hits.extend(found)
                else:
                    cidr(observable, IP, hits)
            elif group == URL:
                if url_keys:
                    exact_into(value, URL, hits)
                host = observable.host
                if host is not None:
                    if observable.rdomain is not None:
                        name_into(host, URL, hits)
                    else:
                        exact_into(host, URL, hits)
                        if ":" not in host:
                            address = int.from_bytes(bytes(map(int, host.split("."))), "big")
                            cover = v4_cover(address)
                            if cover:
                                hits.extend(cover_hits_for(cover, URL))
            elif group is None:
                return hits
            else:  # e-mail addresses and hashes: exact values
                exact_into(value, group, hits)
            # Substring and regular-expression lists, then one hit per list.
            substrings = matchers[group]
            if substrings is not None:
                few = substrings.few
                # Addresses and domain names are lower-case in their canonical form already.
                text = value if group & _LOWER_GROUPS else value.lower()
                if few is not None:
                    for list_index, entry in few:
                        if entry in text:
                            hits.append(hit(list_index, entry))
                else:
                    maybe_dotted = substrings.maybe_dotted
                    if maybe_dotted is None or maybe_dotted(text) is not None:
                        for list_index, entry in substrings.find(text):
                            hits.append(hit(list_index, entry))
            if regex_groups & group:
                for list_index, regex in regexes:
                    if lists[list_index][4] & group and regex.search(value):
                        hits.append(hit(list_index, regex.pattern))
            if len(hits) > 1:
                return _one_per_list(hits)
            return hits

        return check

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
        cache_key = (number << 8) | (flag << 5) | group
        found = self._entry_hits.get(cache_key)
        if found is None:
            lists = self._lists
            found = tuple(
                self._hit(self._entry_lists[position], key)
                for position in range(self._entry_offsets[number], self._entry_offsets[number + 1])
                if self._entry_flags[position] & flag
                and lists[self._entry_lists[position]][4] & group
            )
            if len(self._entry_hits) >= HIT_CACHE:
                self._entry_hits.clear()
            self._entry_hits[cache_key] = found
        hits.extend(found)

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
            name, description, category, _, _, _, list_class, reason = self._lists[list_index]
            found = WarningHit(name, description, category, matched, list_class, reason)
            self._hits[(list_index, matched)] = found
        return found


def _fingerprint(source: ListSource) -> str:
    # The class table is compiled in: a reviewed change to it makes a new index.
    return f"{source.fingerprint()}-{classes.DIGEST}"


def index_path(source: ListSource | None = None, cache_dir: Path | None = None) -> Path:
    """Where the index of ``source``'s lists as they are now is (or would be) cached: a
    different name once a list file changed (a stat of each file, no read)."""
    source = source or default_source()
    return (cache_dir or default_cache_dir()) / layout.file_name(_fingerprint(source))


def _one_per_list(hits: list[WarningHit]) -> list[WarningHit]:
    seen: dict[str, WarningHit] = {}
    for hit in hits:
        seen.setdefault(hit.list_name, hit)
    return list(seen.values())


class _SubstringMatcher:
    """The substring-list entries that apply to one group of observables.

    A handful: tested one by one with `in`. Entries with a dot inside (domain names and
    addresses, nearly all): an occurrence lines the entry's first dot up with a dot of the
    value, so the four characters around each dot of the value pick the candidates. Others:
    indexed by their `size`-grams at their first `stride` offsets, so that a value's grams need
    only be cut at every `stride`-th position (an occurrence at p covers a cut at one of
    p .. p + stride - 1, and the entry holds a whole gram from there); the cuts meet the index
    in one C-level set operation. A candidate is always confirmed with `in`. (A regular
    expression of the alternatives would try each at every position: slower from a few dozen
    entries on.)
    """

    GRAM: Final = 8
    FEW: Final = 4  # as many `in` tests cost less than cutting grams

    def __init__(self, entries: list[tuple[int, str]]) -> None:
        self.few = entries if len(entries) <= self.FEW else None
        self.by_dot: dict[str, list[tuple[int, str]]] = {}
        rest: list[tuple[int, str]] = []
        for item in [] if self.few is not None else entries:
            dot = item[1].find(".")
            if 2 <= dot <= len(item[1]) - 3:
                self.by_dot.setdefault(item[1][dot - 2 : dot + 2], []).append(item)
            else:
                rest.append(item)
        self.rest = rest
        # An occurrence of a dotted entry puts one of the windows `by_dot` holds around a dot
        # of the value: this expression finds such a window (a dot, the character after it,
        # then the two before it), in C, and rules most values out before any is cut.
        self.maybe_dotted: Callable[[str], object] | None = None
        if self.by_dot and not rest:
            before: dict[str, list[str]] = {}
            for key in sorted(self.by_dot):
                before.setdefault(key[3], []).append(re.escape(key[:2]))
            alternatives = "|".join(
                f"{re.escape(after)}(?<=(?:{'|'.join(pairs)})\\.{re.escape(after)})"
                for after, pairs in before.items()
            )
            self.maybe_dotted = re.compile(rf"\.(?:{alternatives})").search
        shortest = min((len(text) for _, text in rest), default=1)
        self.size = min(self.GRAM, shortest)
        self.stride = shortest - self.size + 1
        self.by_gram: dict[str, list[tuple[int, str]]] = {}
        for item in rest:
            for offset in range(self.stride):
                self.by_gram.setdefault(item[1][offset : offset + self.size], []).append(item)
        self.grams = frozenset(self.by_gram)
        self.cuts: dict[int, tuple[slice, ...]] = {}

    @classmethod
    def build(cls, entries: list[tuple[int, str]]) -> _SubstringMatcher | None:
        entries = [(list_index, text) for list_index, text in entries if text]
        return cls(entries) if entries else None

    def find(self, text: str) -> list[tuple[int, str]]:
        if self.few is not None:
            return [item for item in self.few if item[1] in text]
        found: list[tuple[int, str]] = []
        if self.by_dot:
            by_dot = self.by_dot
            dot = text.find(".", 2)
            while dot >= 0:
                candidates = by_dot.get(text[dot - 2 : dot + 2])
                if candidates is not None:
                    found.extend(item for item in candidates if item[1] in text)
                dot = text.find(".", dot + 1)
        if self.rest:
            found.extend(self._find_by_gram(text))
        return sorted(set(found)) if len(found) > 1 else found

    def _find_by_gram(self, text: str) -> list[tuple[int, str]]:
        if len(self.rest) <= self.FEW:
            return [item for item in self.rest if item[1] in text]
        cuts = self.cuts.get(len(text))
        if cuts is None:
            size = self.size
            cuts = self.cuts[len(text)] = tuple(
                slice(i, i + size) for i in range(0, len(text) - size + 1, self.stride)
            )
        if self.grams.isdisjoint(map(text.__getitem__, cuts)):
            return []
        return [
            item
            for gram in self.grams.intersection(map(text.__getitem__, cuts))
            for item in self.by_gram[gram]
            if item[1] in text
        ]
