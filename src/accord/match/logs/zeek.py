"""Zeek logs: the ASCII writer's TSV (with its `#` header) and its JSON lines.

The TSV form (Zeek's `LogAscii` writer, https://docs.zeek.org/en/master/logs/) starts
with directives: `#separator \\x09` (written with a space, in Zeek's escaped form), then,
separated by that separator, `#set_separator`, `#empty_field`, `#unset_field`, `#path`,
`#open`, `#fields` and `#types`; `#close` ends a file, and concatenated files repeat the
header. A value is `-` when unset and `(empty)` when an empty container or string; the
elements of a `set[...]` or `vector[...]` are joined by the set separator; bytes that are
not printable, the separators themselves and a backslash are written as `\\xHH` (a
backslash also as `\\\\`).

Which fields are read: every column whose type is `addr`, `set[addr]` or `vector[addr]`
(so `conn.log`'s `id.orig_h` and `id.resp_h`, `files.log`'s `tx_hosts`, any script's
addresses), and the fields named in `FIELD_ROLES` (`dns.log` `query` and `answers`,
`http.log` `host`, `uri` and `referrer`, `ssl.log` `server_name` and certificate
fingerprints, `files.log` hashes, `x509.log` fingerprint and subject alternative names,
`smtp.log` addresses). JSON lines carry no types, so there `FIELD_ROLES` and the
address-field names `ADDRESS_FIELDS` decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from accord.match.logs.candidates import add, url_from_parts
from accord.match.logs.types import Candidate, LineError, LogFormatError

FIELD_ROLES: Final[dict[str, str]] = {
    # dns.log
    "query": "domain",
    "answers": "answer",
    # http.log: `uri` is read with `host` (or the server's address) into a URL
    "host": "host",
    "referrer": "url",
    "origin": "url",
    # ssl.log (fingerprints of the certificate chain, Zeek >= 4.2 / the log-certs scripts)
    "server_name": "domain",
    "cert_chain_fps": "hash",
    "client_cert_chain_fps": "hash",
    # files.log
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    # x509.log
    "fingerprint": "hash",
    "san.dns": "domain",
    "san.uri": "url",
    "san.email": "email",
    "san.ip": "address",
    # smtp.log
    "mailfrom": "email",
    "rcptto": "email",
    "from": "email",
    "to": "email",
    "cc": "email",
    "reply_to": "email",
    "x_originating_ip": "address",
}
ADDRESS_FIELDS: Final = frozenset(
    {
        "id.orig_h",
        "id.resp_h",
        "tx_hosts",
        "rx_hosts",
        "src",
        "dst",
        "assigned_addr",
        "client_addr",
        "server_addr",
        "requested_addr",
    }
)
_ADDRESS_TYPES: Final = frozenset({"addr", "set[addr]", "vector[addr]"})
_ESCAPE: Final = re.compile(rb"\\(x[0-9a-fA-F]{2}|\\)")


def unescape(value: str) -> str:
    """Undo the ASCII writer's escapes (`\\xHH`, `\\\\`) in one left-to-right pass; the
    bytes are read as UTF-8 (an invalid sequence becomes U+FFFD)."""
    if "\\" not in value:
        return value
    raw = _ESCAPE.sub(_unescape_match, value.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def _unescape_match(match: re.Match[bytes]) -> bytes:
    body = match.group(1)
    return b"\\" if body == b"\\" else bytes((int(body[1:], 16),))


@dataclass(slots=True)
class ZeekHeader:
    """The directives of a TSV Zeek log."""

    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    path: str | None = None
    fields: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def apply(self, line: str) -> None:
        """Take in one `#directive` line (its newline removed)."""
        body = line[1:]
        if body.startswith("separator "):
            self.separator = unescape(body[len("separator ") :].strip())
            return
        key, _, rest = body.partition(self.separator)
        if key == "set_separator":
            self.set_separator = unescape(rest)
        elif key == "empty_field":
            self.empty_field = rest
        elif key == "unset_field":
            self.unset_field = rest
        elif key == "path":
            self.path = rest
        elif key == "fields":
            self.fields = rest.split(self.separator)
        elif key == "types":
            self.types = rest.split(self.separator)

    def roles(self) -> list[tuple[int, str, str, bool]]:
        """(column, field name, role, is a container) of every column read."""
        found = []
        for index, name in enumerate(self.fields):
            kind = self.types[index] if index < len(self.types) else ""
            role = "address" if kind in _ADDRESS_TYPES else FIELD_ROLES.get(name)
            if role is None and not self.types and name in ADDRESS_FIELDS:
                role = "address"
            if role is not None:
                found.append((index, name, role, kind.startswith(("set[", "vector["))))
        return found

    def decode(self, cell: str, container: bool) -> list[str]:
        """The values of one cell: none when unset or empty, each element of a container."""
        if cell == self.unset_field or cell == self.empty_field:
            return []
        if container:
            return [unescape(item) for item in cell.split(self.set_separator)]
        return [unescape(cell)]


class ZeekTsv:
    """Line parser for Zeek's TSV form (see `accord.match.logs.lines`)."""

    def __init__(self) -> None:
        self.header = ZeekHeader()
        self._in_header = True
        self._columns: list[tuple[int, str, str, bool]] = []
        self._uri: tuple[int, int, int, int] | None = None  # uri, host, id.resp_h, id.resp_p

    def parse(self, text: str) -> list[Candidate] | None:
        if text.startswith("#"):
            if not self._in_header:  # a second header (concatenated logs) starts afresh
                self.header = ZeekHeader()
                self._in_header = True
            self.header.apply(text)
            return None
        if not text:
            return None
        if self._in_header:
            self._start()
        header = self.header
        cells = text.split(header.separator)
        if len(cells) != len(header.fields):
            raise LineError(
                f"wrong field count: {len(cells)} fields where #fields names {len(header.fields)}"
            )
        found: list[Candidate] = []
        for index, name, role, container in self._columns:
            cell = cells[index]
            if cell == header.unset_field or cell == header.empty_field:
                continue
            if container:
                for item in cell.split(header.set_separator):
                    add(found, name, role, unescape(item))
            else:
                add(found, name, role, unescape(cell) if "\\" in cell else cell)
        if self._uri is not None:
            uri_at, host_at, resp_at, port_at = self._uri
            uri = cells[uri_at]
            if uri != header.unset_field and uri != header.empty_field:
                host = cells[host_at] if host_at >= 0 else header.unset_field
                if host in (header.unset_field, header.empty_field):
                    host = cells[resp_at] if resp_at >= 0 else ""
                port = cells[port_at] if port_at >= 0 else None
                if host:
                    add(found, "uri", "url", url_from_parts("http", host, port, unescape(uri)))
        return found

    def values(self, text: str) -> dict[str, list[str] | str | None]:
        """Every field of a data line, decoded: None when unset, a list for a container
        (empty for `(empty)`), else the unescaped text. For checks and for display."""
        if self._in_header:
            self._start()
        header = self.header
        cells = text.split(header.separator)
        if len(cells) != len(header.fields):
            raise LineError(f"wrong field count: {len(cells)} for {len(header.fields)}")
        out: dict[str, list[str] | str | None] = {}
        for name, kind, cell in zip(header.fields, header.types, cells, strict=True):
            if cell == header.unset_field:
                out[name] = None
            elif kind.startswith(("set[", "vector[", "table[")):
                out[name] = header.decode(cell, True)
            elif cell == header.empty_field:
                out[name] = ""
            else:
                out[name] = unescape(cell)
        return out

    def _start(self) -> None:
        header = self.header
        if not header.fields:
            raise LogFormatError(
                "a Zeek TSV log without a #fields header line: cannot tell its columns"
            )
        if header.types and len(header.types) != len(header.fields):
            raise LogFormatError(
                f"#fields names {len(header.fields)} columns but #types {len(header.types)}"
            )
        self._in_header = False
        self._columns = [column for column in header.roles() if column[1] != "uri"]
        names = {name: index for index, name in enumerate(header.fields)}
        if "uri" in names:
            self._uri = (
                names["uri"],
                names.get("host", -1),
                names.get("id.resp_h", -1),
                names.get("id.resp_p", -1),
            )
        else:
            self._uri = None


class ZeekJson:
    """Line parser for Zeek's JSON form (`LogAscii::use_json=T`): one object a line, field
    names as in the TSV form ("id.orig_h"), or nested ("id": {"orig_h": ...}) as some
    shippers rewrite them."""

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        record = parse_json_object(text)
        found: list[Candidate] = []
        for name, value in flatten(record):
            role = "address" if name in ADDRESS_FIELDS else FIELD_ROLES.get(name)
            if role is not None:
                _add_value(found, name, role, value)
        uri = record.get("uri")
        if isinstance(uri, str) and uri:
            host = record.get("host") or lookup(record, "id.resp_h")
            port = lookup(record, "id.resp_p")
            if isinstance(host, str) and host:
                url = url_from_parts("http", host, None if port is None else str(port), uri)
                add(found, "uri", "url", url)
        return found


def parse_json_object(text: str) -> dict[str, Any]:
    """One JSON object, or `LineError` saying why the line is not one."""
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise LineError(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise LineError(f"not a JSON object but {type(record).__name__}")
    return record


def lookup(record: dict[str, Any], path: str) -> Any:
    """The value at dotted `path`, where a key may itself hold dots ("id.orig_h" flat, or
    "id" then "orig_h" nested); a list met on the way is searched element by element and
    gives a list. None when absent."""
    if path in record:
        return record[path]
    parts = path.split(".")
    for cut in range(1, len(parts)):
        inner = record.get(".".join(parts[:cut]))
        rest = ".".join(parts[cut:])
        if isinstance(inner, dict):
            found = lookup(inner, rest)
        elif isinstance(inner, list):
            found = []
            for item in inner:
                value = lookup(item, rest) if isinstance(item, dict) else None
                if isinstance(value, list):
                    found.extend(value)
                elif value is not None:
                    found.append(value)
            found = found or None
        else:
            continue
        if found is not None:
            return found
    return None


def flatten(record: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of every value of `record` that is not itself an object."""
    for key, value in record.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _add_value(found: list[Candidate], name: str, role: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                add(found, name, role, item)
        return
    if isinstance(value, str):
        add(found, name, role, value)
