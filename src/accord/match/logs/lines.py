"""The loop every line-oriented reader shares: decode, parse, report, go on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from accord.match.logs.source import LogSource
from accord.match.logs.types import Candidate, LineError, Location, Problem, ProblemSink, Record


class LineParser(Protocol):
    """One format's reading of one line of text (its newline removed)."""

    def parse(self, text: str) -> list[Candidate] | None:
        """The line's candidates; None for a line that is not a record (a comment, a
        header, a blank line). Raises `LineError` for a line that cannot be read."""
        ...


def read_lines(source: LogSource, parser: LineParser, problems: ProblemSink) -> Iterator[Record]:
    """Every record of `source` as `parser` reads it; bad lines go to `problems`."""
    name = source.name
    parse = parser.parse
    for number, offset, data in source.lines(problems):
        text = decode_line(data)
        if isinstance(text, LineError):
            problems(Problem(Location(name, number, offset), str(text)))
            continue
        try:
            found = parse(text)
        except LineError as exc:
            problems(Problem(Location(name, number, offset), str(exc)))
            continue
        if found is not None:
            yield Record(Location(name, number, offset), found)


def decode_line(data: bytes) -> str | LineError:
    """A line's text without its line ending, or why it is not text."""
    nul = data.find(0)
    if nul >= 0:
        return LineError(f"binary data: a NUL byte at column {nul + 1}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineError(f"not UTF-8: byte 0x{data[exc.start]:02x} at column {exc.start + 1}")
    return text.rstrip("\r\n")
