"""Scanning telemetry with a compiled matcher: log records in, hits out.

`scan(path, matcher, options, on_hit)` reads one input (a file, gzip or plain, or "-"), and
`scan_source(source, ...)` one already opened (a request's body), with the log readers
(`accord.match.logs`) and asks the matcher (`accord.match.matcher`) about every candidate
value, calling `on_hit` with a `HitReport` for each value that names an indicator.

Two ways through a file:

- **Zeek TSV, fast**: the columns that can hold what the matcher holds are read in batches
  (`logs.iter_batches`) and tested without building a record: DNS names on their bytes
  (`Matcher.domain_hits`), addresses as the text Zeek writes. A large plain file is cut on
  line boundaries (`logs.split_ranges`) and read by `workers` forked processes, each with the
  matcher inherited from this one (nothing is loaded twice); their hits come back in file
  order.
- **Every other format** (and Zeek TSV when the matcher holds patterns that need whole
  observables): record by record, each candidate normalised by its reader.

Warninglisted and allowlisted indicators (`Target.benign`) are left out unless
`include_benign`, and then flagged. Bad lines are counted and reported by line number
(`problems`); reading goes on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from accord.match.logs import (
    Batch,
    FieldSpec,
    Location,
    LogFormatError,
    LogSource,
    Problem,
    detect_format,
    iter_batches,
    iter_range_batches,
    read_records,
    split_ranges,
)
from accord.match.logs.zeek import FIELD_ROLES
from accord.match.matcher import Hit, Matcher
from accord.model.addresses import parse_address
from accord.model.domains import normalise_domain
from accord.model.observable_types import Observable, ObservableError

PARALLEL_FROM: Final = 64 * 1024 * 1024
"""A plain Zeek file at least this large is read by several processes."""
_ADDRESS_FIELDS: Final = ("id.orig_h", "id.resp_h")


@dataclass(frozen=True, slots=True)
class HitReport:
    location: Location
    field: str
    raw: str
    observable: Observable
    hits: list[Hit]

    def json(self) -> dict[str, Any]:
        return {
            "file": self.location.source,
            "line": self.location.line,
            "offset": self.location.offset,
            "field": self.field,
            "value": self.raw,
            "kind": self.observable.kind,
            "indicators": [hit_json(hit) for hit in self.hits],
        }


def hit_json(hit: Hit) -> dict[str, Any]:
    """One indicator a value hit, as a hit report names it."""
    return {
        "id": hit.target.id,
        "name": hit.target.name,
        "tlp": hit.target.tlp,
        "relation": hit.relation,
        "via": hit.via,
        **({"benign": True} if hit.target.benign else {}),
    }


@dataclass(slots=True)
class ScanOptions:
    format: str = "auto"
    fields: Sequence[FieldSpec] | None = None
    include_benign: bool = False
    workers: int = 1
    batches: bool = True
    """Read a Zeek TSV log in column batches where that sees all the record path would (the
    tests compare the two ways)."""


@dataclass(slots=True)
class ScanStats:
    bytes: int = 0
    lines: int = 0
    values: int = 0
    hits: int = 0
    benign_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    format: str = ""

    def add(self, other: ScanStats) -> None:
        self.bytes += other.bytes
        self.lines += other.lines
        self.values += other.values
        self.hits += other.hits
        self.benign_skipped += other.benign_skipped
        self.problem_count += other.problem_count
        self.problems.extend(other.problems[: max(0, 1000 - len(self.problems))])


OnHit = Callable[[HitReport], None]
Progress = Callable[[int], None]
"""Told the bytes read so far of the current input."""


class _Session:
    """One input being scanned: the matcher, the options, what was seen."""

    def __init__(self, matcher: Matcher, options: ScanOptions, on_hit: OnHit) -> None:
        self.matcher = matcher
        self.options = options
        self.on_hit = on_hit
        self.stats = ScanStats()

    def problem(self, problem: Problem) -> None:
        self.stats.problem_count += 1
        if len(self.stats.problems) < 1000:
            self.stats.problems.append(problem)

    def report(
        self, location: Location, field_name: str, raw: str, observable: Observable, hits: list[Hit]
    ) -> None:
        if not self.options.include_benign:
            kept = [hit for hit in hits if not hit.target.benign]
            self.stats.benign_skipped += len(hits) - len(kept)
            hits = kept
        if hits:
            self.stats.hits += 1
            self.on_hit(HitReport(location, field_name, raw, observable, hits))

    # --- record by record ----------------------------------------------------------------

    def records(self, source: LogSource, format_name: str, progress: Progress | None) -> None:
        matcher = self.matcher
        for count, record in enumerate(
            read_records(source, format_name, self.options.fields, self.problem), 1
        ):
            self.stats.lines = record.location.line
            for candidate in record.candidates:
                self.stats.values += 1
                hits = matcher.value_hits(candidate.observable)
                if hits:
                    self.report(
                        record.location, candidate.field, candidate.raw, candidate.observable, hits
                    )
            if progress is not None and count % 4096 == 0:
                progress(source.bytes_read)

    # --- Zeek TSV in batches ---------------------------------------------------------------

    def batch(self, batch: Batch) -> None:
        """One batch, column by column; its hits are told in line order (then the order of
        the log's columns), as the record path tells them, whatever the batch boundaries."""
        emit = self.on_hit
        pending: list[HitReport] = []
        self.on_hit = pending.append
        try:
            self._columns(batch)
        finally:
            self.on_hit = emit
        if pending:
            rank = {name: position for position, name in enumerate(batch.header.fields)}
            pending.sort(key=lambda report: (report.location.line, rank.get(report.field, 0)))
            for report in pending:
                emit(report)

    def _columns(self, batch: Batch) -> None:
        matcher = self.matcher
        self.stats.lines = max(self.stats.lines, batch.line_numbers[-1] if len(batch) else 0)
        query = batch.columns.get("query")
        if query is not None:
            domain_hits = matcher.domain_hits
            self.stats.values += len(query)
            for row, cell in enumerate(query):
                if cell == b"-" or not cell:
                    continue
                found = domain_hits(cell)
                if found:
                    self._domain_report(batch, row, "query", cell)
        answers = batch.columns.get("answers")
        if answers is not None:
            separator = batch.header.set_separator.encode()
            for row, cell in enumerate(answers):
                if cell in (b"-", b"(empty)") or not cell:
                    continue
                for item in cell.split(separator):
                    self.stats.values += 1
                    self._value(batch, row, "answers", item)
        for name in _ADDRESS_FIELDS:
            column = batch.columns.get(name)
            if column is None:
                continue
            self.stats.values += len(column)
            for row, cell in enumerate(column):
                if cell != b"-":
                    self._address(batch, row, name, cell)

    def _domain_report(self, batch: Batch, row: int, name: str, cell: bytes) -> None:
        raw = cell.decode("utf-8", "replace")
        try:
            observable = normalise_domain(raw)
        except ObservableError:
            return
        hits = self.matcher.value_hits(observable)
        if hits:
            self.report(batch.location(row), name, raw, observable, hits)

    def _address(self, batch: Batch, row: int, name: str, cell: bytes) -> None:
        raw = cell.decode("ascii", "replace")
        if not self.matcher.may_hit_address(raw):
            return
        try:
            observable = parse_address(raw)
        except ObservableError:
            return
        hits = self.matcher.value_hits(observable)
        if hits:
            self.report(batch.location(row), name, raw, observable, hits)

    def _value(self, batch: Batch, row: int, name: str, cell: bytes) -> None:
        """One DNS answer: an address (A, AAAA) or a name (CNAME, PTR, MX...)."""
        if cell[-1:].isdigit() or b":" in cell:
            if self.matcher.has_addresses():
                self._address(batch, row, name, cell)
        elif self.matcher.domain_hits(cell):
            self._domain_report(batch, row, name, cell)


def _zeek_fields(matcher: Matcher, header_fields: Sequence[str]) -> list[str]:
    wanted = []
    if "query" in header_fields:
        wanted.append("query")
    if "answers" in header_fields:
        wanted.append("answers")
    if matcher.has_addresses():
        wanted.extend(name for name in _ADDRESS_FIELDS if name in header_fields)
    return wanted


_BATCH_FIELDS: Final = frozenset({"query", "answers", *_ADDRESS_FIELDS})
_ADDRESS_TYPES: Final = frozenset({"addr", "set[addr]", "vector[addr]"})


def _fast_zeek(matcher: Matcher, format_name: str, head: bytes) -> bool:
    """Whether the batch path sees everything the record path would: a Zeek TSV log whose
    columns that can hold an observable (by the reader's rules: `zeek.FIELD_ROLES`, and
    address types) are all among those the batch path reads (dns.log, conn.log), and a
    matcher without patterns (they need every value as a whole observable)."""
    if format_name != "zeek" or matcher.has_patterns():
        return False
    try:
        names = _header_fields(head)
    except LogFormatError:
        return False
    types = _header_line(head, b"#types")
    readable = {
        name
        for position, name in enumerate(names)
        if name in FIELD_ROLES or (position < len(types) and types[position] in _ADDRESS_TYPES)
    }
    return bool(readable) and readable <= _BATCH_FIELDS


def scan(
    path: str,
    matcher: Matcher,
    options: ScanOptions,
    on_hit: OnHit,
    progress: Progress | None = None,
) -> ScanStats:
    """Scan one input by path ("-": standard input); a large plain Zeek DNS log is read by
    `options.workers` processes. Raises `LogFormatError` (or OSError) when it cannot be read
    at all."""
    with LogSource.open(path) as source:
        format_name = _format_of(source, options)
        if (
            options.batches
            and _fast_zeek(matcher, format_name, source.head)
            and options.workers > 1
            and path != "-"
            and not source.compressed
            and (source.size or 0) >= PARALLEL_FROM
        ):
            source.close()
            stats = ScanStats(format=format_name)
            return _parallel(path, matcher, options, on_hit, progress, stats)
        return scan_source(source, matcher, options, on_hit, progress)


def scan_source(
    source: LogSource,
    matcher: Matcher,
    options: ScanOptions,
    on_hit: OnHit,
    progress: Progress | None = None,
) -> ScanStats:
    """Scan an input already opened (`LogSource(stream, name)` over any binary stream: a
    request's body, say), in this process; the caller closes it. Raises `LogFormatError`
    when it cannot be read at all."""
    session = _Session(matcher, options, on_hit)
    format_name = _format_of(source, options)
    session.stats.format = format_name
    if options.batches and _fast_zeek(matcher, format_name, source.head):
        fields = _zeek_fields(matcher, _header_fields(source.head))
        for batch in iter_batches(source, fields, session.problem):
            session.batch(batch)
            if progress is not None:
                progress(source.bytes_read)
    else:
        session.records(source, format_name, progress)
    session.stats.bytes = source.bytes_read
    return session.stats


def _format_of(source: LogSource, options: ScanOptions) -> str:
    if options.format == "auto":
        return detect_format(source.head, source.name)
    return options.format


def _header_line(head: bytes, directive: bytes) -> list[str]:
    for line in head.split(b"\n"):
        if line.startswith(directive + b"\t"):
            return [name.decode() for name in line.rstrip(b"\r").split(b"\t")[1:]]
    return []


def _header_fields(head: bytes) -> list[str]:
    names = _header_line(head, b"#fields")
    if not names:
        raise LogFormatError("no #fields line in the Zeek log's header")
    return names


# --- several processes ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _work(index: int) -> tuple[list[HitReport], ScanStats]:
    plan, matcher, options, fields, done = (
        _WORKER["plan"],
        _WORKER["matcher"],
        _WORKER["options"],
        _WORKER["fields"],
        _WORKER["done"],
    )
    found: list[HitReport] = []
    session = _Session(matcher, options, found.append)
    part = plan.ranges[index]
    reported = part.start
    for batch in iter_range_batches(plan, part, fields, session.problem):
        session.batch(batch)
        if done is not None:
            with done.get_lock():
                done.value += batch.offset - reported
            reported = batch.offset
    session.stats.bytes = part.end - part.start
    return found, session.stats


def _parallel(
    path: str,
    matcher: Matcher,
    options: ScanOptions,
    on_hit: OnHit,
    progress: Progress | None,
    stats: ScanStats,
) -> ScanStats:
    plan = split_ranges(path, options.workers, number_lines=True)
    fields = _zeek_fields(matcher, list(plan.header.fields))
    context = multiprocessing.get_context("fork")
    done = context.Value("q", 0) if progress is not None else None
    _WORKER.update(plan=plan, matcher=matcher, options=options, fields=fields, done=done)
    try:
        with context.Pool(len(plan.ranges)) as pool:
            pending = pool.map_async(_work, range(len(plan.ranges)))
            while not pending.ready():
                pending.wait(0.2)
                if progress is not None and done is not None:
                    progress(done.value)
            results = pending.get()
    finally:
        _WORKER.clear()
    for found, part_stats in results:
        for report in found:
            on_hit(report)
        stats.add(part_stats)
    stats.bytes = os.path.getsize(path)
    return stats


def iter_hits(path: str, matcher: Matcher, options: ScanOptions) -> Iterator[HitReport]:
    """The hits of one input, for callers that want them as a list (tests, the API)."""
    found: list[HitReport] = []
    scan(path, matcher, options, found.append)
    yield from found
