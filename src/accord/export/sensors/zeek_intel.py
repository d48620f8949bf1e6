"""A Zeek Intel Framework file (``Intel::read_files``) from the indicators a viewer may see.

The documented form (Zeek's base/frameworks/intel/input.zeek, read by the input framework's
ASCII reader): a ``#fields`` header naming the columns, then one indicator per line, the
fields separated by one tab, ``-`` for a field that is not set. Columns: ``indicator``,
``indicator_type``, ``meta.source``, ``meta.desc``, ``meta.url`` (the fields of
``Intel::MetaData`` that every Zeek has; more need their scripts loaded). ``meta.desc`` says
the indicator, its TLP, score and name; ``meta.url`` links the indicator where the export
knows the node's address. Comment lines (``#``) after the header say who the file is for and
what was left out; the reader skips them.

Types (``Intel::Type``): addresses ``Intel::ADDR``, networks ``Intel::SUBNET``, domains
``Intel::DOMAIN``, URLs ``Intel::URL`` (without the scheme, as Zeek's HTTP script builds the
URL it checks: host, port when not the default, path), e-mail addresses ``Intel::EMAIL``, MD5,
SHA-1 and SHA-256 ``Intel::FILE_HASH`` (the hashes Zeek's file analysis computes). Other
hashes are left out. No field ever holds a tab, a newline or another control character: a
value that does is left out with its reason; a name is reduced to printable ASCII.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from accord.export.indicator_items import ExportItem, Tally
from accord.export.sensors.text import Heading, header_lines, one_line, trailer_lines

FIELDS: Final = ("indicator", "indicator_type", "meta.source", "meta.desc", "meta.url")
HEADER: Final = "#fields\t" + "\t".join(FIELDS)
ZEEK_TYPES: Final[dict[str, str]] = {
    "ipv4": "Intel::ADDR",
    "ipv6": "Intel::ADDR",
    "ipv4-net": "Intel::SUBNET",
    "ipv6-net": "Intel::SUBNET",
    "domain": "Intel::DOMAIN",
    "url": "Intel::URL",
    "email": "Intel::EMAIL",
    "md5": "Intel::FILE_HASH",
    "sha1": "Intel::FILE_HASH",
    "sha256": "Intel::FILE_HASH",
}
SOURCE: Final = "Accord"
UNSET: Final = "-"
_CONTROL: Final = re.compile(r"[\x00-\x20\x7f]")  # no space either: Zeek would keep it


def indicator_text(item: ExportItem) -> str:
    """The indicator as Zeek compares it."""
    if item.kind == "url":
        return re.sub(r"^[a-z][a-z0-9+.-]*://", "", item.value)
    return item.value


def lines(
    items: Iterator[ExportItem], tally: Tally, heading: Heading, link_base: str | None = None
) -> Iterator[str]:
    """The file, line by line. ``link_base``: the node's address (``https://accord.example``),
    for ``meta.url``; without it the field is unset."""
    yield HEADER + "\n"
    for line in header_lines(heading):
        yield f"# {line}\n"
    for item in items:
        zeek_type = ZEEK_TYPES.get(item.kind)
        if zeek_type is None:
            tally.leave_out(f"no Zeek Intel type for {item.kind} values")
            continue
        indicator = indicator_text(item)
        if not indicator or _CONTROL.search(indicator) or indicator in ("-", "(empty)"):
            tally.leave_out("a value Zeek's ASCII reader cannot hold", item)
            continue
        name = one_line(item.name, 100)
        desc = f"{item.indicator_id} {item.tlp.label} score {item.score}" + (
            f" {name}" if name else ""
        )
        desc = desc.replace("\t", " ")
        url = f"{link_base.rstrip('/')}/api/v1/objects/{item.indicator_id}" if link_base else UNSET
        tally.exported += 1
        yield "\t".join((indicator, zeek_type, SOURCE, desc, url)) + "\n"
    for line in trailer_lines(tally):
        yield f"# {line}\n"
