"""ArcSight Common Event Format (Micro Focus "Implementing ArcSight CEF", revision 25):

    [syslog prefix] CEF:Version|Device Vendor|Device Product|Device Version|
        Device Event Class ID|Name|Severity|Extension

In the header, `|` and `\\` are escaped with a backslash; in the extension (space
separated `key=value` pairs, a value running to the next unescaped ` key=`), `=`, `\\`
and line ends (`\\n`, `\\r`) are. Read: addresses (`src`, `dst`, the translated and IPv6
addresses), host names (`shost`, `dhost`, `dvchost` is the reporting device and is not),
DNS domains, the `request` URL, users that are e-mail addresses (`suser`, `duser`), file
hashes (`fileHash`, `oldFileHash`), each by its short key or its full name.
"""

from __future__ import annotations

import re
from typing import Final

from accord.match.logs.candidates import add
from accord.match.logs.types import Candidate, LineError

FIELD_ROLES: Final[dict[str, str]] = {
    "src": "address",
    "sourceAddress": "address",
    "dst": "address",
    "destinationAddress": "address",
    "sourceTranslatedAddress": "address",
    "destinationTranslatedAddress": "address",
    "c6a2": "address",  # source IPv6 address
    "c6a3": "address",  # destination IPv6 address
    "shost": "host",
    "sourceHostName": "host",
    "dhost": "host",
    "destinationHostName": "host",
    "sourceDnsDomain": "domain",
    "destinationDnsDomain": "domain",
    "request": "url",
    "requestUrl": "url",
    "suser": "email",
    "sourceUserName": "email",
    "duser": "email",
    "destinationUserName": "email",
    "fileHash": "hash",
    "oldFileHash": "hash",
}

CEF_START: Final = re.compile(r"CEF:\d+\|")
_HEADER_FIELDS: Final = 7  # Version .. Severity
_KEY: Final = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]+)=")
_EXTENSION_ESCAPE: Final = re.compile(r"\\(.)")
_EXTENSION_CHARS: Final = {"n": "\n", "r": "\r", "=": "=", "\\": "\\"}


def split_header(text: str) -> tuple[list[str], str]:
    """The seven header fields (unescaped) and the raw extension of a CEF event.

    Raises `LineError` when there is no `CEF:` or fewer than seven `|`-separated fields."""
    found = CEF_START.search(text)
    if found is None:
        raise LineError("not a CEF event: no 'CEF:<version>|'")
    fields: list[str] = []
    current: list[str] = []
    position = found.start() + len("CEF:")
    length = len(text)
    while position < length and len(fields) < _HEADER_FIELDS:
        char = text[position]
        if char == "\\" and position + 1 < length and text[position + 1] in "|\\":
            current.append(text[position + 1])
            position += 2
            continue
        if char == "|":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
        position += 1
    if len(fields) < _HEADER_FIELDS:
        raise LineError(
            f"truncated CEF header: {len(fields)} of {_HEADER_FIELDS} '|'-separated fields"
        )
    return fields, text[position:]


def parse_extension(extension: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a CEF extension, values unescaped, in order."""
    keys = list(_KEY.finditer(extension))
    pairs = []
    for index, key in enumerate(keys):
        end = keys[index + 1].start() if index + 1 < len(keys) else len(extension)
        value = extension[key.end() : end].rstrip(" \r\n")
        if "\\" in value:
            value = _EXTENSION_ESCAPE.sub(
                lambda match: _EXTENSION_CHARS.get(match.group(1), match.group(0)), value
            )
        pairs.append((key.group(1), value))
    return pairs


class Cef:
    """Line parser for CEF events (see `accord.match.logs.lines`)."""

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        _, extension = split_header(text)
        found: list[Candidate] = []
        for key, value in parse_extension(extension):
            role = FIELD_ROLES.get(key)
            if role is not None and value:
                add(found, key, role, value)
        return found
