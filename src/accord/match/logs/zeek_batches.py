"""The fast path for Zeek TSV logs: columns of whole batches of lines, for the matcher.

`accord match` over a DNS log is bounded by how fast Python can take the `query` out of
each line. The record readers make a `Record` and normalised `Candidate`s per line; here a
batch of about 1 MiB of lines gives, per wanted field, one list of the raw cell bytes,
and nothing else per line. Per chunk:

- the chunk is split into lines, and each line split only as far as it must: from its
  start up to the last wanted column near the start, from its end (`rsplit`) up to the
  first wanted column near the end (`_split_plan`; measured faster than one split of the
  whole chunk, and a dns.log's `query` and `answers` twice as fast as one split of each
  line up to `answers`);
- the separators of the whole chunk are counted (one pass in C): a chunk with as many as
  its lines should have is taken as well formed. (Counting per line costs a quarter of
  the reader's speed; what this misses is two bad lines in one chunk whose errors cancel,
  one short of fields by as many as the other has too many: each is then read from its
  own columns, counted from its start or its end as above; a line too short for that
  sends the chunk to the line-by-line path.);
- a chunk holding anything unusual (a `#` line such as `#close` or a second header, a
  blank line, a NUL byte, a wrong count of separators, a line longer than `MAX_LINE`) is
  read line by line instead,
  and its bad lines are reported as problems with their line numbers.

Values are Zeek's text as written: `-` for unset, `(empty)`, `\\xHH` escapes, container
elements joined by the set separator, and DNS names in the case the client sent (DNS
0x20 randomises it), so the caller lower-cases and strips a trailing dot itself
(`domain_key`), or decodes a cell fully with `ZeekHeader.decode`.

For two worker processes, `split_ranges` cuts a file into byte ranges on line boundaries
and parses its header once; `iter_range_batches` reads one range with that header.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Final

from accord.match.logs.source import MAX_LINE, Chunk, LogSource
from accord.match.logs.types import Location, LogFormatError, Problem, ProblemSink
from accord.match.logs.zeek import ZeekHeader
from accord.store.gc_pause import collector_paused

BATCH_BYTES: Final = 1 << 20


@dataclass(slots=True)
class Batch:
    """The wanted columns of a run of data lines."""

    source: str
    header: ZeekHeader
    first_line: int
    """Line number of the first line of the chunk the batch was read from."""
    offset: int
    """Byte offset of that chunk in the decompressed input."""
    columns: dict[str, list[bytes]]
    """Per wanted field, the raw cell of every row, in row order."""
    line_numbers: Sequence[int]
    """Line number of every row (a `range` when no line of the chunk was skipped)."""
    _lines: list[bytes] = field(repr=False)
    _starts: list[int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.line_numbers)

    def location(self, row: int) -> Location:
        """Where row `row` is (its byte offset computed on first use, once per batch)."""
        number = self.line_numbers[row]
        if self._starts is None:  # the lengths of the lines before each (newlines apart)
            self._starts = [0, *accumulate(map(len, self._lines))]
        index = number - self.first_line
        return Location(self.source, number, self.offset + self._starts[index] + index)


def domain_key(value: bytes) -> bytes:
    """A DNS name cell as the index compares it: lower case, no trailing dot (ASCII names;
    others need `accord.model.observables.normalise`)."""
    value = value.lower()
    return value[:-1] if value.endswith(b".") else value


class _Columns:
    """Reads chunks of one input into batches; keeps the header across chunks."""

    def __init__(
        self, name: str, fields: Sequence[str], problems: ProblemSink, header: ZeekHeader | None
    ) -> None:
        self.name = name
        self.fields = tuple(fields)
        self.problems = problems
        self.header = header if header is not None else ZeekHeader()
        self.in_header = header is None
        if header is not None:
            self._resolve()

    def _resolve(self) -> None:
        header = self.header
        if not header.fields:
            raise LogFormatError(f"{self.name}: a Zeek TSV log without #fields")
        missing = [name for name in self.fields if name not in header.fields]
        if missing:
            raise LogFormatError(
                f"{self.name}: no field {', '.join(map(repr, missing))} in this log "
                f"(#path {header.path or '?'}; #fields: {' '.join(header.fields)})"
            )
        self.indexes = [header.fields.index(name) for name in self.fields]
        self.maxsplit = max(self.indexes) + 1
        self.sep = header.separator.encode("utf-8")
        self.seps = len(header.fields) - 1
        self.left, self.right = _split_plan(self.indexes, len(header.fields))
        self.in_header = False

    def batch(self, chunk: Chunk) -> Batch | None:
        data = chunk.data
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        if not lines:
            return None
        # (A blank line has no separator, so the count below sends it to the slow path; "#"
        # is looked for alone first: a search for one byte is memchr, for "\n#" 80x slower.)
        if (
            self.in_header
            or (b"#" in data and (data[0] == 0x23 or b"\n#" in data))
            or b"\x00" in data
        ):
            return self._slow(chunk, lines)
        sep = self.sep
        if data.count(sep) != self.seps * len(lines) or (
            len(data) > MAX_LINE and max(map(len, lines)) > MAX_LINE
        ):
            return self._slow(chunk, lines)
        try:
            columns = self._columns(lines)
        except IndexError:  # lines short of fields whose errors the count did not see
            return self._slow(chunk, lines)
        numbers = range(chunk.line, chunk.line + len(lines))
        return Batch(self.name, self.header, chunk.line, chunk.offset, columns, numbers, lines)

    def _columns(self, lines: list[bytes]) -> dict[str, list[bytes]]:
        """The wanted cells of well-formed lines: the columns nearer the start of a line
        split from its start, those nearer its end from its end (`_split_plan`)."""
        sep = self.sep
        by_index: dict[int, list[bytes]] = {}
        for (maxsplit, picks), split in ((self.left, bytes.split), (self.right, bytes.rsplit)):
            if not picks:
                continue
            if len(picks) == 1:
                index, at = picks[0]
                by_index[index] = [split(line, sep, maxsplit)[at] for line in lines]
            else:
                # A list per line, alive until the columns are taken: without the collector,
                # which would walk them all again at each threshold (measured: a conn.log's
                # two addresses read 3x slower in a process holding a large matcher).
                with collector_paused():
                    rows = [split(line, sep, maxsplit) for line in lines]
                    for index, at in picks:
                        by_index[index] = [row[at] for row in rows]
                    del rows
        return {
            name: by_index[index] for name, index in zip(self.fields, self.indexes, strict=True)
        }

    def _slow(self, chunk: Chunk, lines: list[bytes]) -> Batch | None:
        columns: dict[str, list[bytes]] = {name: [] for name in self.fields}
        numbers: list[int] = []
        position = 0
        for index, line in enumerate(lines):
            number = chunk.line + index
            start = position
            position += len(line) + 1
            if line.startswith(b"#"):
                if not self.in_header:
                    self.header = ZeekHeader()
                    self.in_header = True
                self.header.apply(line.decode("utf-8", "replace").rstrip("\r"))
                continue
            if not line.strip():
                continue
            if self.in_header:
                self._resolve()
            reason = None
            if len(line) > MAX_LINE:
                reason = f"line too long: {len(line) + 1:,} bytes, more than {MAX_LINE:,}; skipped"
            elif b"\x00" in line:
                reason = f"binary data: a NUL byte at column {line.index(0) + 1}"
            elif line.count(self.sep) != self.seps:
                reason = (
                    f"wrong field count: {line.count(self.sep) + 1} fields where #fields "
                    f"names {self.seps + 1}"
                )
            if reason is not None:
                where = Location(self.name, number, chunk.offset + start)
                self.problems(Problem(where, reason))
                continue
            cells = line.split(self.sep, self.maxsplit)
            for name, column in zip(self.fields, self.indexes, strict=True):
                columns[name].append(cells[column])
            numbers.append(number)
        if not numbers:
            return None
        return Batch(self.name, self.header, chunk.line, chunk.offset, columns, numbers, lines)


Picks = tuple[int, list[tuple[int, int]]]
"""A split of each line (its maxsplit) and the (column, position in the pieces) taken."""


def _split_plan(indexes: Sequence[int], count: int) -> tuple[Picks, Picks]:
    """How to split a line of `count` fields for the columns at `indexes`: from the start
    (`split(sep, i + 1)` isolates column i) for some, from the end (`rsplit(sep, count -
    j)` isolates every column from j > 0 on) for the others, whichever makes the fewest
    objects per line (the pieces, and a list per column when a split serves several):
    `query` and `answers`, columns 9 and 21 of a dns.log's 24, cost 11 + 4 pieces this
    way, 23 in one split (measured 2x faster)."""
    order = sorted(set(indexes))
    best: tuple[int, int] | None = None
    for cut in range(len(order) + 1):
        left, right = order[:cut], order[cut:]
        if right and right[0] == 0:
            continue
        cost = 0
        if left:
            cost += left[-1] + 3 + (len(left) if len(left) > 1 else 0)
        if right:
            cost += count - right[0] + 2 + (len(right) if len(right) > 1 else 0)
        if best is None or cost < best[0]:
            best = (cost, cut)
    assert best is not None
    left, right = order[: best[1]], order[best[1] :]
    return (
        (left[-1] + 1 if left else 0, [(i, i) for i in left]),
        (count - right[0] if right else 0, [(i, i - right[0] + 1) for i in right]),
    )


def iter_batches(
    source: LogSource,
    fields: Sequence[str] = ("query",),
    problems: ProblemSink | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[Batch]:
    """Batches of the `fields` columns of a Zeek TSV log, its header read from its start.

    Raises `LogFormatError` when the log has no `#fields` line or lacks a wanted field."""
    sink = problems if problems is not None else _ignore
    reader = _Columns(source.name, fields, sink, None)
    for chunk in source.chunks(sink, batch_bytes):
        batch = reader.batch(chunk)
        if batch is not None:
            yield batch


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Part of a file: whole lines from byte `start` to `end`."""

    start: int
    end: int
    first_line: int | None
    """Line number of its first line, when `split_ranges` was asked to count them."""


@dataclass(frozen=True, slots=True)
class RangePlan:
    """A file cut for parallel reading: its header (parsed once) and the ranges."""

    path: str
    header: ZeekHeader
    ranges: tuple[ByteRange, ...]


def split_ranges(path: str, parts: int, number_lines: bool = False) -> RangePlan:
    """Cut plain file `path` into at most `parts` ranges on line boundaries, after its
    header. With `number_lines`, the lines before each range are counted (one more pass
    at memory speed over the file) so that every range knows its first line number;
    without, a worker's line numbers are relative and `first_line` is None.

    Raises `LogFormatError` for a gzip file (it cannot be entered in the middle: read it
    with `iter_batches`) or a file without a Zeek header."""
    with open(path, "rb") as stream:
        if stream.read(2) == b"\x1f\x8b":
            raise LogFormatError(f"{path}: a gzip file cannot be split into ranges")
        stream.seek(0)
        header = ZeekHeader()
        header_lines = 0
        while True:
            line = stream.readline(1 << 16)
            if not line.startswith(b"#"):
                break
            header.apply(line.decode("utf-8", "replace").rstrip("\r\n"))
            header_lines += 1
        if not header.fields:
            raise LogFormatError(f"{path}: not a Zeek TSV log (no #fields header line)")
        body = stream.tell() - len(line)
        size = os.fstat(stream.fileno()).st_size
        cuts = [body]
        for part in range(1, max(parts, 1)):
            target = body + (size - body) * part // parts
            if target <= cuts[-1]:
                continue
            stream.seek(target - 1)
            stream.readline()  # to the end of the line `target - 1` is in
            cut = stream.tell()
            if cut < size and cut > cuts[-1]:
                cuts.append(cut)
        cuts.append(size)
        firsts: list[int | None] = [None] * (len(cuts) - 1)
        if number_lines:
            stream.seek(body)
            line_number = header_lines + 1
            for index in range(len(cuts) - 1):
                firsts[index] = line_number
                if index < len(cuts) - 2:  # (the last range's own lines number nothing after)
                    line_number += _count_lines(stream, cuts[index + 1] - cuts[index])
    ranges = tuple(
        ByteRange(cuts[index], cuts[index + 1], firsts[index]) for index in range(len(cuts) - 1)
    )
    return RangePlan(path, header, ranges)


def _count_lines(stream: object, length: int) -> int:
    count = 0
    read = stream.read  # type: ignore[attr-defined]
    while length > 0:
        data = read(min(length, 1 << 22))
        if not data:
            break
        length -= len(data)
        count += data.count(b"\n")
    return count


def iter_range_batches(
    plan: RangePlan,
    part: ByteRange,
    fields: Sequence[str] = ("query",),
    problems: ProblemSink | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[Batch]:
    """Batches of one range of a `split_ranges` plan (for one worker). Line numbers start
    at `part.first_line`, or at 1 for the range's first line when it is None."""
    sink = problems if problems is not None else _ignore
    reader = _Columns(plan.path, fields, sink, plan.header)
    with open(plan.path, "rb", buffering=0) as stream:
        stream.seek(part.start)
        window = _Window(stream, part.end - part.start)
        first = part.first_line or 1
        with LogSource(window, plan.path, first_line=first, offset=part.start) as source:
            for chunk in source.chunks(sink, batch_bytes):
                batch = reader.batch(chunk)
                if batch is not None:
                    yield batch


class _Window(io.RawIOBase):
    """The next `length` bytes of a stream, then end of file."""

    def __init__(self, stream: io.FileIO, length: int) -> None:
        self._stream = stream
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._left)
        if size <= 0:
            return 0
        got = self._stream.readinto(buffer[:size]) or 0
        self._left -= got
        return got


def _ignore(problem: Problem) -> None:
    return None
