"""Field maps for the formats with no fixed fields (CSV, JSON lines): `--fields` text.

    --fields src=src_ip:address,query=dns.rrname,url=request.url:url

Each entry is `NAME=PATH[:ROLE]`: NAME is how hits name the field, PATH a CSV column
(by its header) or a dotted JSON path ("id.orig_h" as one key or nested; a list on the
way gives each element), ROLE what the field holds (`address`, `domain`, `host`, `url`,
`email`, `hash`, `answer`, or a kind such as `ipv4` or `sha256`; `auto`, the default, lets
the model's detection decide per value).
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.match.logs.candidates import KIND_ROLES, ROLES
from accord.match.logs.types import LogFormatError


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    path: str
    role: str


def parse_field_map(text: str) -> tuple[FieldSpec, ...]:
    """The entries of a `--fields` text; raises `LogFormatError` naming the bad entry."""
    specs = []
    for position, entry in enumerate(text.split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        name, equals, path = entry.partition("=")
        if not equals:
            path = name
        name, path = name.strip(), path.strip()
        role = "auto"
        head, colon, tail = path.rpartition(":")
        if colon and (tail in ROLES or tail in KIND_ROLES):
            path, role = head, KIND_ROLES.get(tail, tail)
            if not equals:
                name = path
        elif colon and tail.isidentifier():
            known = ", ".join(sorted(ROLES | set(KIND_ROLES)))
            raise LogFormatError(
                f"--fields entry {position} ({entry!r}): unknown role {tail!r} (known: {known})"
            )
        if not name or not path:
            raise LogFormatError(
                f"--fields entry {position} ({entry!r}): write NAME=PATH[:ROLE], e.g. "
                "query=dns.rrname:domain"
            )
        specs.append(FieldSpec(name, path, role))
    if not specs:
        raise LogFormatError("--fields is empty: write NAME=PATH[:ROLE],...")
    return tuple(specs)
