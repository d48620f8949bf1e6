"""Log readers: telemetry in, candidate observables out (pure parsing; no store, no matcher).

    with LogSource.open("dns.log.gz") as source:
        for record in read_records(source, "auto", problems=log.add):
            for candidate in record.candidates:
                ...  # candidate.field, candidate.raw, candidate.observable.kind/.value

One module per format (`zeek`, `suricata`, `squid`, `combined`, `cef`, `syslog`,
`table` for CSV and JSON lines), auto-detection in `detect`, opening (gzip by magic bytes,
standard input, bounded lines) in `source`, and the fast column reader for Zeek TSV that
the matcher uses on DNS logs in `zeek_batches`. docs/logs.md describes the fields read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from accord.match.logs.cef import Cef
from accord.match.logs.combined import CombinedAccess
from accord.match.logs.detect import detect_format
from accord.match.logs.fields import FieldSpec, parse_field_map
from accord.match.logs.lines import LineParser, read_lines
from accord.match.logs.source import MAX_LINE, LogSource
from accord.match.logs.squid import SquidAccess
from accord.match.logs.suricata import SuricataEve
from accord.match.logs.syslog import Syslog
from accord.match.logs.table import CsvTable, JsonLines
from accord.match.logs.types import (
    CANDIDATE_KINDS,
    Candidate,
    Location,
    LogFormatError,
    Problem,
    ProblemLog,
    ProblemSink,
    Record,
)
from accord.match.logs.zeek import ZeekJson, ZeekTsv
from accord.match.logs.zeek_batches import (
    Batch,
    ByteRange,
    RangePlan,
    domain_key,
    iter_batches,
    iter_range_batches,
    split_ranges,
)

FORMATS: Final = (
    "auto",
    "zeek",
    "zeek-json",
    "suricata-eve",
    "squid",
    "nginx",
    "apache",
    "combined",
    "cef",
    "syslog",
    "csv",
    "jsonl",
)
"""What `--format` accepts ("nginx" and "apache" are both the combined/common reader)."""

__all__ = [
    "CANDIDATE_KINDS",
    "FORMATS",
    "MAX_LINE",
    "Batch",
    "ByteRange",
    "Candidate",
    "FieldSpec",
    "Location",
    "LogFormatError",
    "LogSource",
    "Problem",
    "ProblemLog",
    "ProblemSink",
    "RangePlan",
    "Record",
    "detect_format",
    "domain_key",
    "iter_batches",
    "iter_range_batches",
    "parse_field_map",
    "parser_for",
    "read_records",
    "split_ranges",
]


def parser_for(format_name: str, fields: Sequence[FieldSpec] | None = None) -> LineParser:
    """A fresh line parser for `format_name` (not "auto"); `fields` for csv and jsonl."""
    if fields is not None and format_name not in ("csv", "jsonl"):
        raise LogFormatError(f"--fields applies to csv and jsonl, not to {format_name}")
    parsers: dict[str, type[LineParser]] = {
        "zeek": ZeekTsv,
        "zeek-json": ZeekJson,
        "suricata-eve": SuricataEve,
        "squid": SquidAccess,
        "nginx": CombinedAccess,
        "apache": CombinedAccess,
        "combined": CombinedAccess,
        "cef": Cef,
        "syslog": Syslog,
    }
    if format_name == "csv":
        return CsvTable(fields)
    if format_name == "jsonl":
        return JsonLines(fields)
    parser = parsers.get(format_name)
    if parser is None:
        raise LogFormatError(f"unknown log format {format_name!r} (known: {', '.join(FORMATS)})")
    return parser()


def read_records(
    source: LogSource,
    format_name: str = "auto",
    fields: Sequence[FieldSpec] | None = None,
    problems: ProblemSink | None = None,
) -> Iterator[Record]:
    """Every record of `source` in `format_name` ("auto": `detect_format` on its start).

    Bad lines go to `problems` (ignored when None) and reading goes on; an input that
    cannot be read at all raises `LogFormatError` naming it."""
    if format_name == "auto":
        format_name = detect_format(source.head, source.name)
    parser = parser_for(format_name, fields)
    sink = problems if problems is not None else _ignore
    try:
        yield from read_lines(source, parser, sink)
    except LogFormatError as exc:
        raise LogFormatError(f"{source.name}: {exc}") from None


def _ignore(problem: Problem) -> None:
    return None
