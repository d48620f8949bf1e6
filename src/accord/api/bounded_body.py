"""Request bodies read with bounds: the bytes on the wire, and what gzip makes of them.

A sensor sends a batch of logs, often gzip (``Content-Encoding: gzip``, or a ``.gz`` file
posted as it is). Both sizes are bounded: `read_body` stops reading at ``limit`` bytes (the
node-wide `BodyLimit` is far larger), and `BoundedGunzip` decompresses as it is read and
stops at its own limit, so that a small body that inflates to gigabytes (a "zip bomb") costs
no more than the limit's worth of work and never sits whole in memory.
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Final

from fastapi import Request

from accord.api.problems import Problem

_GZIP_MAGIC: Final = b"\x1f\x8b"
_INPUT: Final = 64 * 1024
"""Compressed bytes fed to the decompressor at a time."""


class DecodedTooLarge(Exception):
    """The decompressed body passed its limit (not an OSError: the log readers, which treat
    those as a truncated input, must not swallow it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body decompresses to more than {limit:,} bytes")
        self.limit = limit


def too_large(detail: str, limit: int) -> Problem:
    return Problem(413, detail, [{"pointer": "/", "detail": f"at most {limit:,} bytes"}])


async def read_body(request: Request, limit: int) -> bytes:
    """The body as sent, or 413 as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(f"the body is {int(declared):,} bytes; at most {limit:,} are taken", limit)
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise too_large(f"the body is longer than {limit:,} bytes", limit)
        parts.append(part)
    return b"".join(parts)


def is_gzip(data: bytes) -> bool:
    return data[:2] == _GZIP_MAGIC


class BoundedGunzip(io.RawIOBase):
    """The decompressed bytes of ``data`` (one gzip member or several, concatenated), read
    as a stream; `DecodedTooLarge` once more than ``limit`` bytes come out. A corrupt or
    truncated member raises `gzip.BadGzipFile` (an OSError: the log readers report what
    came before and stop)."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._data = memoryview(data)
        self._position = 0
        self._limit = limit
        self._out = 0
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""  # input the decompressor has not taken yet (`unconsumed_tail`)

    def readable(self) -> bool:
        return True

    @property
    def decoded(self) -> int:
        return self._out

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        wanted = len(buffer)
        if wanted == 0:
            return 0
        while True:
            if self._inflate.eof:
                rest = self._inflate.unused_data + self._pending + self._rest()
                if not rest.strip(b"\x00"):  # padding after the last member, as gzip allows
                    return 0
                if not is_gzip(rest):
                    raise gzip.BadGzipFile("trailing data after the gzip stream is not gzip")
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._pending = rest
            source = self._pending or self._next()
            try:
                # Also with no input left: zlib may still hold output for what it took.
                out = self._inflate.decompress(source, wanted)
            except zlib.error as exc:
                raise gzip.BadGzipFile(f"not valid gzip: {exc}") from None
            self._pending = self._inflate.unconsumed_tail
            if out:
                self._out += len(out)
                if self._out > self._limit:
                    raise DecodedTooLarge(self._limit)
                buffer[: len(out)] = out
                return len(out)
            if not source and not self._inflate.eof:
                raise gzip.BadGzipFile("the gzip stream ends early")

    def _next(self) -> bytes:
        chunk = bytes(self._data[self._position : self._position + _INPUT])
        self._position += len(chunk)
        return chunk

    def _rest(self) -> bytes:
        rest = bytes(self._data[self._position :])
        self._position = len(self._data)
        return rest

    def read_all(self) -> bytes:
        """Everything, within the limit."""
        parts: list[bytes] = []
        while chunk := self.read(1 << 20):
            parts.append(chunk)
        return b"".join(parts)


__all__ = ["BoundedGunzip", "DecodedTooLarge", "is_gzip", "read_body", "too_large"]
