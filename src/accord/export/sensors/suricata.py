"""Suricata rules from the indicators a viewer may see (docs/exports.md has examples).

- Domains: three rules each, a DNS query, a TLS SNI and an HTTP host equal to the domain or
  below it (``dotprefix; content:".evil.example"; endswith;``: the sticky buffer with a dot
  in front ends with the dot and the domain).
- URLs (http and https): the HTTP host, and the normalised URI (percent-decoded, as Suricata
  normalises ``http.uri``) equal to the URL's path and query.
- Addresses and networks: one IP-only rule each (``alert ip any any <> [addr] any``) while the
  export has at most `DATASET_THRESHOLD` single addresses; beyond that the single addresses go
  into datasets (``ip.src``/``ip.dst``; ``dataset:isset``, type ``ipv4`` or ``ip``, Suricata 8)
  and networks stay rules. The rules file then names each address of the datasets, with its
  indicator, in a comment (a dataset file has no room for one).
- File hashes: MD5, SHA-1 and SHA-256 lists for ``filemd5``, ``filesha1`` and ``filesha256``
  (one hash per line; Suricata ignores what follows the hash, which is where the indicator and
  its TLP go). E-mail addresses and other hashes have no Suricata keyword here: left out.

Every byte of a value that is not plainly safe inside a quoted ``content`` is written as hex
(``|22|`` for ``"``), so a hostile value never ends a string or an option; names in ``msg`` are
reduced to printable ASCII without ``"``, ``;``, ``\\`` or ``|``.

SIDs: each (indicator id, kind, value) owns a block of `SID_BLOCK` SIDs at
``SID_BASE + SID_FIXED + SID_BLOCK * (BLAKE2b-64(id, kind, value) mod blocks)``, one SID per
rule of the value; the file's fixed rules (datasets, hash lists) take ``SID_BASE`` to
``SID_BASE + SID_FIXED - 1``. Two values that land on the same block: the one whose indicator
was stored first keeps it, the later one takes the next free block. So a value keeps its SIDs
from one export to the next unless an earlier value that collided with it leaves. ``rev`` is
the version's ``modified`` in seconds since 1970 (it grows with each new version).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import unquote_to_bytes, urlsplit

from accord.export.indicator_items import ExportItem, Tally
from accord.export.sensors.text import Heading, header_lines, one_line, reference, trailer_lines

SID_BASE: Final = 3_000_000_000  # to 3,999,999,999: clear of the ET (2,xxx,xxx) and local ranges
SID_SPACE: Final = 1_000_000_000
SID_FIXED: Final = 1_000  # the file's own rules
SID_BLOCK: Final = 4  # SIDs per value: a domain has three rules
_BLOCKS: Final = (SID_SPACE - SID_FIXED) // SID_BLOCK

# Beyond this many single addresses, datasets: thousands of IP-only rules load and match
# well (Suricata keeps them in a radix tree), but each rule costs memory and start-up time,
# and a dataset of a million addresses costs one hash look-up per packet.
DATASET_THRESHOLD: Final = 1_000

HASH_LISTS: Final[dict[str, tuple[str, str]]] = {
    "md5": ("filemd5", "accord-md5.list"),
    "sha1": ("filesha1", "accord-sha1.list"),
    "sha256": ("filesha256", "accord-sha256.list"),
}
DATASETS: Final[dict[str, tuple[str, str, str]]] = {
    # kind: (dataset name, dataset type, file)
    "ipv4": ("accord-ipv4", "ipv4", "accord-ipv4.lst"),
    "ipv6": ("accord-ipv6", "ip", "accord-ipv6.lst"),
}
LIST_FILES: Final = frozenset(
    [file for _, file in HASH_LISTS.values()] + [file for _, _, file in DATASETS.values()]
)
# Application protocols whose files Suricata hashes (file-store capable parsers).
FILE_PROTOCOLS: Final = ("http", "smtp", "smb", "ftp-data", "nfs")

_CONTENT_SAFE: Final = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/:?=&%+,@!*()'[]$^{}`<>#"
)
_MSG_UNSAFE: Final = re.compile(r'["\\;|]')
_HEX: Final = re.compile(r"[0-9a-f]+")


def content(data: bytes) -> str:
    """A ``content`` string: safe bytes as they are, every other byte as ``|xx|``."""
    out: list[str] = []
    pending: list[str] = []
    for byte in data:
        if byte in _CONTENT_SAFE:
            if pending:
                out.append("|" + " ".join(pending) + "|")
                pending = []
            out.append(chr(byte))
        else:
            pending.append(f"{byte:02x}")
    if pending:
        out.append("|" + " ".join(pending) + "|")
    return "".join(out)


def _msg(text: str) -> str:
    return _MSG_UNSAFE.sub("_", one_line(text, 160))


def rev_of(modified: str) -> int:
    """``rev``: the version's ``modified`` (a timestamp key) in whole seconds since 1970."""
    return int(datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp())


class SidAllocator:
    """Blocks of SIDs per value, stable across exports (the module's docstring)."""

    def __init__(self) -> None:
        self.taken: set[int] = set()
        self.collisions = 0

    def block(self, item: ExportItem) -> int:
        key = f"{item.indicator_id}\x00{item.kind}\x00{item.value}".encode()
        slot = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % _BLOCKS
        while slot in self.taken:
            self.collisions += 1
            slot = (slot + 1) % _BLOCKS
        self.taken.add(slot)
        return SID_BASE + SID_FIXED + SID_BLOCK * slot


def _metadata(item: ExportItem) -> str:
    # metadata values may hold neither "," nor ";": ids, slugs and digits do not.
    return (
        f"metadata:accord_indicator {item.indicator_id}, tlp {item.tlp.slug}, "
        f"accord_kind {item.kind}, accord_score {item.score}"
    )


Write = Callable[[str], None]


@dataclass
class SuricataWriter:
    """Writes the rules (``rules``: one call per line) and, for the list files, the lines of
    each (``lists(name)``: a writer, or None when that file is not wanted)."""

    rules: Write
    lists: Callable[[str], Write | None]
    tally: Tally
    threshold: int = DATASET_THRESHOLD
    sids: SidAllocator = field(default_factory=SidAllocator)
    _addresses: list[ExportItem] = field(default_factory=list)
    _datasets: bool = False
    _hash_kinds: set[str] = field(default_factory=set)
    _dataset_kinds: set[str] = field(default_factory=set)
    _list_writers: dict[str, Write | None] = field(default_factory=dict)

    def begin(self, heading: Heading) -> None:
        for line in header_lines(heading):
            self.rules(f"# {line}")

    def add(self, item: ExportItem) -> None:
        kind = item.kind
        if kind == "domain":
            self._domain(item)
        elif kind == "url":
            self._url(item)
        elif kind in ("ipv4", "ipv6"):
            self._address(item)
        elif kind in ("ipv4-net", "ipv6-net"):
            self._ip_rule(item)
        elif kind in HASH_LISTS:
            self._hash(item)
        else:
            self.tally.leave_out(f"no Suricata keyword for {kind} values")

    def end(self) -> None:
        if self._datasets:
            self._dataset_rules()
        else:
            for item in self._addresses:
                self._ip_rule(item)
        self._addresses = []
        for kind in sorted(self._hash_kinds):
            keyword, file = HASH_LISTS[kind]
            for position, protocol in enumerate(FILE_PROTOCOLS):
                sid = SID_BASE + 100 + 10 * list(HASH_LISTS).index(kind) + position
                self.rules(
                    f'alert {protocol} any any -> any any (msg:"ACCORD file {kind} on the '
                    f'list {file}"; {keyword}:{file}; metadata:accord_list {file}; '
                    f"sid:{sid}; rev:1;)"
                )
        if self.sids.collisions:
            self.rules(f"# SID blocks taken by an earlier value: {self.sids.collisions}")
        for line in trailer_lines(self.tally):
            self.rules(f"# {line}")

    # -- per kind ----------------------------------------------------------------------------

    def _rule(self, item: ExportItem, sid: int, header: str, what: str, body: str) -> None:
        msg = _msg(f"ACCORD {item.tlp.label} {what} {item.value} {item.name}")
        self.rules(
            f'alert {header} (msg:"{msg}"; {body} {_metadata(item)}; '
            f"sid:{sid}; rev:{rev_of(item.modified)};)"
        )

    def _domain(self, item: ExportItem) -> None:
        block = self.sids.block(item)
        pattern = content(("." + item.value).encode())
        for offset, (protocol, buffer, nocase) in enumerate(
            (
                ("dns", "dns.query", " nocase;"),
                ("tls", "tls.sni", " nocase;"),
                ("http", "http.host", ""),
            )
        ):
            self._rule(
                item,
                block + offset,
                f"{protocol} any any -> any any",
                f"{protocol.upper()} name under",
                f'{buffer}; dotprefix; content:"{pattern}";{nocase} endswith;',
            )
        self.tally.exported += 1

    def _url(self, item: ExportItem) -> None:
        parts = urlsplit(item.value)
        if parts.scheme not in ("http", "https") or not item.observable.host:
            self.tally.leave_out("a URL that is not http(s): no Suricata HTTP rule", item)
            return
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        uri = unquote_to_bytes(target)
        if not uri:
            self.tally.leave_out("a URL without a path", item)
            return
        host = content(item.observable.host.encode())
        body = (
            f'http.host; content:"{host}"; startswith; endswith; '
            f'http.uri; content:"{content(uri)}"; startswith; endswith;'
        )
        self._rule(item, self.sids.block(item), "http any any -> any any", "URL", body)
        self.tally.exported += 1

    def _address(self, item: ExportItem) -> None:
        if self._datasets:
            self._dataset_line(item)
            return
        self._addresses.append(item)
        if len(self._addresses) > self.threshold:
            self._datasets = True
            for held in self._addresses:
                self._dataset_line(held)
            self._addresses = []

    def _ip_rule(self, item: ExportItem) -> None:
        # The value is the index's canonical address or network: digits, hex, ".", ":", "/".
        if not re.fullmatch(r"[0-9a-f.:/]+", item.value):
            self.tally.leave_out("not an address Suricata reads", item)
            return
        self._rule(
            item,
            self.sids.block(item),
            f"ip any any <> [{item.value}] any",
            "address",
            "",
        )
        self.tally.exported += 1

    def _list(self, file: str) -> Write | None:
        if file not in self._list_writers:
            self._list_writers[file] = self.lists(file)
        return self._list_writers[file]

    def _dataset_line(self, item: ExportItem) -> None:
        name, _, file = DATASETS[item.kind]
        self._dataset_kinds.add(item.kind)
        self.rules(f"# dataset {name}: {item.value} {reference(item)}")
        write = self._list(file)
        if write is not None:
            write(item.value)
        self.tally.exported += 1

    def _dataset_rules(self) -> None:
        for position, (address_kind, (name, kind, file)) in enumerate(DATASETS.items()):
            if address_kind not in self._dataset_kinds:
                continue
            for offset, buffer in enumerate(("ip.src", "ip.dst")):
                sid = SID_BASE + 10 + 2 * position + offset
                self.rules(
                    f'alert ip any any -> any any (msg:"ACCORD address on the list {file} '
                    f'({buffer})"; {buffer}; dataset:isset,{name},type {kind},load {file}; '
                    f"metadata:accord_list {file}; sid:{sid}; rev:1;)"
                )

    def _hash(self, item: ExportItem) -> None:
        if not _HEX.fullmatch(item.value):
            self.tally.leave_out("not a hexadecimal hash", item)
            return
        _, file = HASH_LISTS[item.kind]
        self._hash_kinds.add(item.kind)
        write = self._list(file)
        if write is not None:
            write(f"{item.value} {reference(item)}")
        self.tally.exported += 1


def rules_of(items: Iterator[ExportItem], tally: Tally, heading: Heading) -> Iterator[str]:
    """The rules file alone, line by line (the list files are not written)."""
    lines: list[str] = []
    writer = SuricataWriter(lines.append, lambda _name: None, tally)
    writer.begin(heading)
    yield from _drain(lines)
    for item in items:
        writer.add(item)
        yield from _drain(lines)
    writer.end()
    yield from _drain(lines)


def _drain(lines: list[str]) -> Iterator[str]:
    for line in lines:
        yield line + "\n"
    lines.clear()
