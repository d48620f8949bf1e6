"""Opening a log: plain or gzip (told by its magic bytes), a file or standard input, read
as bytes in bounded pieces so that memory stays flat however large the input or its lines.

Byte counts for a progress bar: `LogSource.bytes_read` is what was consumed of the file as
stored (compressed bytes for gzip), to set against `LogSource.size`; line offsets are
positions in the decompressed text.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import BinaryIO, Final, NamedTuple

from accord.match.logs.types import Location, Problem, ProblemSink

MAX_LINE: Final = 64 * 1024
"""Longest line read, newline excluded; a longer one is skipped (and reported) without
ever being held whole in memory."""
HEAD_SIZE: Final = 64 * 1024
"""How much of the start of an input format detection looks at."""
_GZIP_MAGIC: Final = b"\x1f\x8b"
_BUFFER: Final = 1 << 20

Stream = BinaryIO | io.RawIOBase
"""What a `LogSource` reads: a binary file, standard input's buffer, a raw stream."""


class _Counting(io.RawIOBase):
    """A raw stream that counts the bytes read from it (the stored bytes, for progress)."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            size = readinto(buffer) or 0
        else:
            data = self._stream.read(len(buffer))
            size = len(data)
            buffer[:size] = data
        self.count += size
        return size


class _Prefixed(io.RawIOBase):
    """`head` then the rest of `stream`: the start of the input, read once for format
    detection, is read again by the reader without seeking (standard input cannot seek)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        return size


class Chunk(NamedTuple):
    """Whole lines of an input, with where the first of them is."""

    line: int
    """Line number of the first line of `data`."""
    offset: int
    """Byte offset of `data` in the decompressed input."""
    data: bytes


class LogSource:
    """One input, opened for reading; use as a context manager.

    `head` holds the first `HEAD_SIZE` decompressed bytes (for `detect_format`); `lines()`
    and `chunks()` read the whole input from its first byte, either one of them, once.
    """

    def __init__(
        self,
        stream: Stream,
        name: str,
        size: int | None = None,
        first_line: int = 1,
        offset: int = 0,
        owned: bool = True,
    ) -> None:
        self.name = name
        self.size = size
        """Stored size in bytes when known (a file), for a progress bar; None for a pipe."""
        self._stream = stream
        self._owned = owned
        """Whether `close` closes `stream` (not standard input)."""
        self._counting = _Counting(stream)
        stored = io.BufferedReader(self._counting, buffer_size=_BUFFER)
        self.compressed = stored.peek(2)[:2] == _GZIP_MAGIC
        decoded: BinaryIO = (
            gzip.GzipFile(fileobj=stored, mode="rb") if self.compressed else stored  # type: ignore[assignment]
        )
        self.head = _read_up_to(decoded, HEAD_SIZE)
        self._decoded = decoded
        self._started = False
        self.lines_read = first_line - 1
        """Lines handed out so far (plus `first_line` - 1)."""
        self.offset = offset
        """Offset of the next byte to hand out in the decompressed input."""

    def _start(self) -> None:
        if self._started:
            raise RuntimeError(f"{self.name}: read once, by lines() or chunks()")
        self._started = True

    @classmethod
    def open(cls, path: str) -> LogSource:
        """A file by path, or standard input for "-". Raises OSError as `open` does."""
        if path == "-":
            return cls(sys.stdin.buffer, "-", owned=False)
        stream = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        try:
            size = os.fstat(stream.fileno()).st_size
        except OSError:
            size = None
        return cls(stream, path, size)

    @property
    def bytes_read(self) -> int:
        """Stored bytes consumed so far (may run ahead of the records by a buffer's worth)."""
        return self._counting.count

    def lines(self, problems: ProblemSink) -> Iterator[tuple[int, int, bytes]]:
        """(line number, offset, bytes with its newline) of every line of at most
        `MAX_LINE` bytes; a longer line is read past in bounded pieces and reported."""
        self._start()
        reader = io.BufferedReader(_Prefixed(self.head, self._decoded), buffer_size=_BUFFER)
        readline = reader.readline
        limit = MAX_LINE + 1
        number = self.lines_read
        offset = self.offset
        try:
            while True:
                data = readline(limit)
                if not data:
                    return
                number += 1
                start = offset
                offset += len(data)
                if len(data) == limit and data[-1] != 0x0A:
                    while True:
                        more = readline(limit)
                        offset += len(more)
                        if not more or more[-1] == 0x0A:
                            break
                    self.lines_read, self.offset = number, offset
                    self._overlong(problems, number, start, offset)
                    continue
                self.lines_read, self.offset = number, offset
                yield number, start, data
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            problems(
                Problem(
                    Location(self.name, number + 1, offset),
                    f"input ends early: {exc}; the rest cannot be read",
                )
            )

    def chunks(self, problems: ProblemSink, size: int = _BUFFER) -> Iterator[Chunk]:
        """The input in `Chunk`s of about `size` bytes, each ending at a line's end (the
        last may not), for readers that split whole batches of lines at once.

        A line with no end within `size` + `MAX_LINE` bytes is read past and reported;
        memory stays within that bound. (A shorter long line stays in its chunk: the batch
        reader checks its field count as for any line.)"""
        self._start()
        read = self._decoded.read
        rest = self.head
        line = self.lines_read + 1
        offset = self.offset
        skipping_from: tuple[int, int] | None = None  # (line, offset) of an overlong line
        while True:
            data = read(size)
            if not data:
                if skipping_from is not None:
                    self._overlong(problems, *skipping_from, offset)
                    line += 1
                elif rest:
                    yield Chunk(line, offset, rest)
                    line += rest.count(b"\n") + 1
                    offset += len(rest)
                self.lines_read, self.offset = line - 1, offset
                return
            if skipping_from is not None:
                end = data.find(b"\n") + 1
                if end == 0:
                    offset += len(data)
                    continue
                offset += end
                self._overlong(problems, *skipping_from, offset)
                skipping_from = None
                line += 1
                data = data[end:]
            elif rest:
                data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) > MAX_LINE:
                    skipping_from = (line, offset)
                    offset += len(data)
                    rest = b""
                else:
                    rest = data
                continue
            rest = data[cut:]
            piece = data[:cut]
            yield Chunk(line, offset, piece)
            line += piece.count(b"\n")
            offset += cut
            self.lines_read, self.offset = line - 1, offset

    def _overlong(self, problems: ProblemSink, line: int, start: int, end: int) -> None:
        problems(
            Problem(
                Location(self.name, line, start),
                f"line too long: {end - start:,} bytes, more than {MAX_LINE:,}; skipped",
            )
        )

    def close(self) -> None:
        try:
            self._decoded.close()
        finally:
            if self._owned:
                self._stream.close()

    def __enter__(self) -> LogSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    wanted = size
    try:
        while wanted > 0:
            data = stream.read(wanted)
            if not data:
                break
            parts.append(data)
            wanted -= len(data)
    except (OSError, EOFError):
        pass  # a truncated gzip member: `lines` reports it where it is met
    return b"".join(parts)
