"""Scanning telemetry with a compiled matcher: log records in, hits out.

`scan(path, matcher, options, on_hit)` reads one input (a file, gzip or plain, or "-") with
the log readers (`accord.match.logs`) and asks the matcher (`accord.match.matcher`) about every
candidate value, calling `on_hit` with a `HitReport` for each value that names an indicator.

Two ways through a file:

- **Zeek TSV, fast**: when the columns the record reader would read are a dns.log's `query`
  and `answers` and plain addresses (`conn.log`'s `id.orig_h`, `id.resp_h`), those that can
  hold what the matcher holds are read in batches (`logs.iter_batches`) and tested without
  building a record: the matcher's prefilters pick, for a whole batch at once, the cells
  that may hit (`Matcher.domain_candidates`: a name's last two or three labels;
  `Matcher.address_candidates`: an address's leading bits at each prefix length held), and
  only those take the full look-up. A large plain file is cut on line boundaries
  (`logs.split_ranges`): this process reads the first range and one forked process each
  of the others, with the matcher and its prefilters inherited (nothing is loaded twice);
  their hits come back packed as tuples, after this process's own, so in file order.
- **Every other format** (and Zeek TSV when the matcher holds patterns that need whole
  observables): record by record, each candidate normalised by its reader.

Warninglisted and allowlisted indicators (`Target.benign`) are left out unless
`include_benign`, and then flagged. Bad lines are counted and reported by line number
(`problems`); reading goes on.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress
from multiprocessing.connection import Connection
from operator import methodcaller, not_
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
from accord.match.logs.zeek import ZeekHeader
from accord.match.matcher import Hit, Matcher, Target
from accord.model.addresses import parse_address
from accord.model.domains import normalise_domain
from accord.model.observable_types import Observable, ObservableError
from accord.store.gc_pause import collector_paused

PARALLEL_FROM: Final = 32 * 1024 * 1024
"""A plain Zeek file at least this large is read by several processes (starting one costs
about 0.1 s with a matcher of 1,000,000 indicators; reading 32 MiB alone, 0.3 s)."""
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
        """One batch; its hits are told in line order (then the order of the log's
        columns), as the record path tells them, whatever the batch or range boundaries."""
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
        """One batch of columns. The matcher's prefilters pick, for the whole batch at
        once, the cells that may hit (`Matcher.domain_candidates`, `address_candidates`);
        only those take the full path."""
        matcher = self.matcher
        self.stats.lines = max(self.stats.lines, batch.line_numbers[-1] if len(batch) else 0)
        query = batch.columns.get("query")
        if query is not None:
            domain_hits = matcher.domain_hits
            self.stats.values += len(query)
            for row in matcher.domain_candidates(query):
                cell = query[row]
                if cell == b"-" or not cell:
                    continue
                if domain_hits(cell):
                    self._domain_report(batch, row, "query", cell)
        answers = batch.columns.get("answers")
        if answers is not None:
            self._answers(batch, answers)
        for name in _ADDRESS_FIELDS:
            column = batch.columns.get(name)
            if column is None:
                continue
            self.stats.values += len(column)
            for row in matcher.address_candidates(column):
                cell = column[row]
                if cell != b"-":
                    self._address(batch, row, name, cell)

    def _answers(self, batch: Batch, answers: list[bytes]) -> None:
        """Every element of every answer (unset and empty cells hold none) that may hit,
        to `_value`: `_value` takes an element ending in a digit or holding ":" for an
        address (tested only when the matcher holds addresses), any other for a name."""
        matcher = self.matcher
        separator = batch.header.set_separator.encode()
        joined = b"\n".join(answers)
        skipped = answers.count(b"-") + answers.count(b"(empty)") + answers.count(b"")
        self.stats.values += joined.count(separator) + len(answers) - skipped
        rows: Sequence[int] = range(len(answers))
        if not matcher.has_addresses():
            # Only the cells with a name in them: an A record's dotted quad is digits and
            # dots alone, so nothing of a cell of those is left when they are deleted
            # (for the whole batch at once, in C; a cell holds no newline).
            left = joined.translate(None, _DIGITS_DOTS + separator).split(b"\n")
            if len(left) == len(answers):
                rows = list(compress(rows, left))
                if not rows:
                    return
        cells = [answers[row] for row in rows] if len(rows) != len(answers) else answers
        items = separator.join(cells).split(separator)
        is_address = [item[-1:].isdigit() or b":" in item for item in items]
        names = list(compress(range(len(items)), map(not_, is_address)))
        picked = {names[k] for k in matcher.domain_candidates([items[i] for i in names])}
        if matcher.has_addresses():
            looks = list(compress(range(len(items)), is_address))
            picked.update(looks[k] for k in matcher.address_candidates([items[i] for i in looks]))
        if not picked:
            return
        # Cell c holds the items up to (its separators and those of the cells before it)
        # + c + 1: the cell of item k is the first whose end exceeds k.
        separators = list(accumulate(map(methodcaller("count", separator), cells)))
        positions = range(len(cells))
        for index in sorted(picked):
            position = bisect_right(positions, index, key=lambda c: separators[c] + c + 1)
            cell = cells[position]
            if cell in (b"-", b"(empty)") or not cell:
                continue
            self._value(batch, rows[position], "answers", items[index])

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


_DIGITS_DOTS: Final = b"0123456789."
_BATCH_ROLES: Final = {"query": "domain", "answers": "answer"}
"""The columns the batch path reads besides plain addresses (`_ADDRESS_FIELDS`), by role."""


def _zeek_fields(matcher: Matcher, header: ZeekHeader) -> list[str] | None:
    """The columns the batch path reads for `matcher`, or None when the log has a column
    the record reader would read (`ZeekHeader.roles`) that the batch path does not: then
    only the record path sees everything."""
    wanted = []
    for _, name, role, container in header.roles():
        if _BATCH_ROLES.get(name) == role:
            wanted.append(name)
        elif name in _ADDRESS_FIELDS and role == "address" and not container:
            if matcher.has_addresses():
                wanted.append(name)
        else:
            return None
    return wanted


def _fast_zeek(matcher: Matcher, format_name: str, head: bytes) -> list[str] | None:
    """The columns to read in batches when the batch path sees everything the record path
    would: a Zeek TSV log whose columns read are a dns.log's `query` and `answers` and
    plain addresses (`conn.log`'s `id.orig_h`, `id.resp_h`), and a matcher without
    patterns (they need every value as a whole observable); else None."""
    if format_name != "zeek" or matcher.has_patterns():
        return None
    header = ZeekHeader()
    for line in head.split(b"\n"):
        if not line.startswith(b"#"):
            break
        header.apply(line.decode("utf-8", "replace").rstrip("\r"))
    if not header.fields:
        return None
    fields = _zeek_fields(matcher, header)
    return fields or None


def scan(
    path: str,
    matcher: Matcher,
    options: ScanOptions,
    on_hit: OnHit,
    progress: Progress | None = None,
) -> ScanStats:
    """Scan one input by path ("-": standard input); a large plain Zeek log the batch path
    reads is read by `options.workers` processes. Raises `LogFormatError` (or OSError) when
    it cannot be read at all."""
    with LogSource.open(path) as source:
        format_name = _format_of(source, options)
        fields = _batch_fields(matcher, options, format_name, source.head)
        if (
            fields is not None
            and options.workers > 1
            and path != "-"
            and not source.compressed
            and (source.size or 0) >= PARALLEL_FROM
        ):
            source.close()
            return _parallel(
                path, matcher, options, on_hit, progress, ScanStats(format=format_name)
            )
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
    fields = _batch_fields(matcher, options, format_name, source.head)
    if fields is not None:
        with collector_paused():  # a batch's lists live until the next (`_parallel`)
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


def _batch_fields(
    matcher: Matcher, options: ScanOptions, format_name: str, head: bytes
) -> list[str] | None:
    return _fast_zeek(matcher, format_name, head) if options.batches else None


# --- several processes ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}
"""What the forked readers inherit (not pickled): the plan, the matcher, the options."""

Packed = tuple[int, int, str, str, tuple[Any, ...], list[tuple[str, str, tuple[Any, ...]]]]
"""A `HitReport` as plain tuples (line, offset, field, raw, observable, hits): a tenth of the
time to pickle that the dataclasses take."""


def _pack(report: HitReport) -> Packed:
    observable, location = report.observable, report.location
    return (
        location.line,
        location.offset,
        report.field,
        report.raw,
        (observable.kind, observable.value, observable.host, observable.lo, observable.hi,
         observable.rdomain),
        [
            (hit.relation, hit.via, (hit.target.id, hit.target.name, hit.target.tlp,
                                     hit.target.pattern, hit.target.benign))
            for hit in report.hits
        ],
    )  # fmt: skip


def _unpack(source: str, packed: Packed) -> HitReport:
    line, offset, field_name, raw, observable, hits = packed
    return HitReport(
        Location(source, line, offset),
        field_name,
        raw,
        Observable(*observable),
        [Hit(relation, via, Target(*target)) for relation, via, target in hits],
    )


def _read_range(index: int, on_hit: OnHit, advance: Callable[[int], None]) -> ScanStats:
    """Read range `index` of the plan in `_WORKER`; `advance` is told the bytes done."""
    plan = _WORKER["plan"]
    session = _Session(_WORKER["matcher"], _WORKER["options"], on_hit)
    part = plan.ranges[index]
    reported = part.start
    for batch in iter_range_batches(plan, part, _WORKER["fields"], session.problem):
        session.batch(batch)
        advance(batch.offset - reported)
        reported = batch.offset
    session.stats.bytes = part.end - part.start
    return session.stats


def _child(index: int, results: Connection) -> None:
    """A forked reader: range `index`, its hits sent back packed (or what it raised)."""
    # No collections in here: this process lives for one range, makes no cycles worth
    # freeing, and a full collection would walk (and copy, page by page) every object it
    # shares with its parent, the matcher's among them.
    gc.disable()
    done = _WORKER["done"]

    def advance(count: int) -> None:
        with done.get_lock():
            done.value += count

    try:
        found: list[HitReport] = []
        stats = _read_range(index, found.append, advance)
        results.send(("done", [_pack(report) for report in found], stats))
    except BaseException as exc:
        results.send(("failed", exc, None))
    finally:
        results.close()


def _parallel(
    path: str,
    matcher: Matcher,
    options: ScanOptions,
    on_hit: OnHit,
    progress: Progress | None,
    stats: ScanStats,
) -> ScanStats:
    """The file cut in `workers` ranges: the first read here, the others each by a forked
    process (started in a few milliseconds, the matcher and its prefilters inherited);
    their hits are reported after this process's own, so in file order."""
    plan = split_ranges(path, options.workers, number_lines=True)
    fields = _zeek_fields(matcher, plan.header)
    if not fields:  # the header differs from the first 64 KiB's (it cannot)
        raise LogFormatError(f"{path}: cannot read this Zeek log in ranges")
    matcher.prepare()  # built once here, not in every process
    context = multiprocessing.get_context("fork")
    done = context.Value("q", 0)
    _WORKER.update(plan=plan, matcher=matcher, options=options, fields=fields, done=done)
    children: list[tuple[Any, Connection]] = []
    own_done = 0

    def advance(count: int) -> None:
        nonlocal own_done
        own_done += count
        if progress is not None:
            progress(own_done + done.value)

    parts: list[ScanStats] = []
    # As in the children (`_child`), no collections while this process reads its range
    # and takes theirs in.
    with collector_paused():
        try:
            for index in range(1, len(plan.ranges)):
                receiver, sender = context.Pipe(duplex=False)
                child = context.Process(target=_child, args=(index, sender), daemon=True)
                child.start()
                sender.close()
                children.append((child, receiver))
            parts.append(_read_range(0, on_hit, advance))
            for _, receiver in children:
                try:
                    outcome, found, part_stats = receiver.recv()
                except EOFError:
                    raise RuntimeError(
                        f"{path}: a reader process ended without its results"
                    ) from None
                if outcome != "done":
                    raise found
                for packed in found:
                    on_hit(_unpack(path, packed))
                parts.append(part_stats)
        finally:
            _WORKER.clear()
            for child, receiver in children:
                receiver.close()
                if child.is_alive() and len(parts) < len(plan.ranges):
                    child.terminate()
                child.join()
    for part_stats in parts:
        lines = max(stats.lines, part_stats.lines)
        stats.add(part_stats)
        stats.lines = lines  # each part's lines are the last line number it read
    stats.bytes = os.path.getsize(path)
    return stats


def iter_hits(path: str, matcher: Matcher, options: ScanOptions) -> Iterator[HitReport]:
    """The hits of one input, for callers that want them as a list (tests, the API)."""
    found: list[HitReport] = []
    scan(path, matcher, options, found.append)
    yield from found
