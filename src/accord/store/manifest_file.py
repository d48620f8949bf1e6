"""The file format that backups (`accord.store.backup`) and audit archives
(`accord.store.audit_archive`) share: a magic line naming the kind and its format, one line of
JSON (the manifest: what the file holds, its size and checksum), then the payload.

Writing is crash-safe: the file is made beside its name, fsynced, renamed over it and the
folder fsynced, so that a crash leaves either no file or the whole one, never a part under the
final name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

MAX_MANIFEST = 64 * 1024  # bytes of the manifest line read at most
CHUNK = 1024 * 1024

T = TypeVar("T")


class BadManifest(ValueError):
    """The file is not of the kind, or its first two lines cannot be read: the message says
    which, naming the file."""


@contextmanager
def payload_beside(path: Path) -> Iterator[Path]:
    """A scratch file beside ``path`` for the payload (the same file system: the copy into the
    final file does not cross disks), removed afterwards."""
    payload = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.payload")
    try:
        yield payload
    finally:
        payload.unlink(missing_ok=True)


def write(path: Path, magic: bytes, manifest: dict[str, Any], payload: Path) -> None:
    """``path``: ``magic``, ``manifest`` as one JSON line, then the bytes of ``payload``;
    whole or not at all (OSError when it could not be written)."""
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with staged.open("wb") as out, payload.open("rb") as source:
            out.write(magic)
            out.write(orjson.dumps(manifest) + b"\n")
            while chunk := source.read(CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(staged, path)
        _fsync_folder(path.parent)
    finally:
        staged.unlink(missing_ok=True)


def read(path: Path, f: IO[bytes], magic: bytes, what: str, build: Callable[..., T]) -> T:
    """The manifest of the file open as ``f`` (left at the payload's first byte), built by
    ``build(**fields)``; `BadManifest` when the file is no ``what`` or its manifest line is
    incomplete or not what ``build`` takes."""
    if f.read(len(magic)) != magic:
        raise BadManifest(f"{path} is not {what} (it does not begin with {magic!r})")
    line = f.readline(MAX_MANIFEST)
    if not line.endswith(b"\n"):
        raise BadManifest(f"{path} is truncated or damaged: its manifest line is incomplete")
    try:
        data = orjson.loads(line)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        return build(**data)
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise BadManifest(f"{path} is damaged: its manifest cannot be read ({exc})") from None


def _fsync_folder(folder: Path) -> None:
    """The rename itself survives a crash only once the folder is synced (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a system that cannot open folders (Windows) has no such step
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
