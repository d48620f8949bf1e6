"""The sensor formats by name: what the CLI and the API offer, each format's media type and
the function that writes it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from accord.export.indicator_items import ExportItem, ExportQuery, Tally
from accord.export.sensors import csv_table, hosts, rpz, suricata, zeek_intel
from accord.export.sensors.text import Heading
from accord.model.observable_types import ADDRESS_KINDS, KINDS

FORMATS: Final = ("suricata", "zeek-intel", "rpz", "hosts", "csv")
TEXT: Final = "text/plain; charset=utf-8"
MEDIA_TYPES: Final[dict[str, str]] = {
    "suricata": TEXT,
    "zeek-intel": TEXT,
    "rpz": TEXT,
    "hosts": TEXT,
    "csv": "text/csv; charset=utf-8",
}
RULES_FILE: Final = "accord.rules"  # the rules' name in a directory (`--output DIR`)

# The kinds each format can write: the reader is asked for these only (`for_format`).
KINDS_OF: Final[dict[str, frozenset[str]]] = {
    "suricata": ADDRESS_KINDS | {"domain", "url", *suricata.HASH_LISTS},
    "zeek-intel": frozenset(zeek_intel.ZEEK_TYPES),
    "rpz": ADDRESS_KINDS | {"domain"},
    "hosts": frozenset({"domain"}),
    "csv": KINDS,
}


def for_format(format: str, query: ExportQuery) -> ExportQuery:
    """``query`` narrowed to the kinds ``format`` can write (all of them when it asked for
    none). A query left with no kind at all still asks for none it cannot write: the
    reader is then asked for an impossible kind and answers nothing."""
    wanted = KINDS_OF[format] if not query.kinds else query.kinds & KINDS_OF[format]
    return replace(query, kinds=wanted or frozenset({"none"}))


def render(
    format: str,
    items: Iterator[ExportItem],
    tally: Tally,
    heading: Heading,
    link_base: str | None = None,
) -> Iterator[str]:
    """The document of ``format``, in chunks of text (for Suricata the rules file alone)."""
    if format == "suricata":
        return suricata.rules_of(items, tally, heading)
    if format == "zeek-intel":
        return zeek_intel.lines(items, tally, heading, link_base)
    if format == "rpz":
        return rpz.lines(items, tally, heading)
    if format == "hosts":
        return hosts.lines(items, tally, heading)
    if format == "csv":
        return csv_table.lines(items, tally)
    raise ValueError(f"{format!r} is not one of {', '.join(FORMATS)}")


def suricata_list(
    name: str, items: Iterator[ExportItem], tally: Tally, heading: Heading
) -> Iterator[str]:
    """One list file a Suricata rules file names (a dataset or a hash list), line by line;
    the rules themselves are worked out and dropped."""
    wanted: list[str] = []
    writer = suricata.SuricataWriter(
        lambda _line: None, lambda file: wanted.append if file == name else None, tally
    )
    writer.begin(heading)
    for item in items:
        writer.add(item)
        yield from _drain(wanted)
    writer.end()
    yield from _drain(wanted)


def _drain(lines: list[str]) -> Iterator[str]:
    for line in lines:
        yield line + "\n"
    lines.clear()
