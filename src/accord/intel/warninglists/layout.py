"""The index file: a small pickled header, then arrays and the key blob, memory-mapped.

Layout: ``b"ACCORDWL"``, the header's length (8 bytes, little-endian), the pickled header
(format, fingerprint, list descriptions, small parts, and where each section is), then the
sections, each 8-byte aligned. Loading reads the header and maps the rest: arrays become
`memoryview` casts of the mapping, so nothing is copied or parsed.
"""

from __future__ import annotations

import mmap
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

from accord.intel.warninglists.compiler import FORMAT, Compiled

MAGIC: Final = b"ACCORDWL"


def file_name(fingerprint: str) -> str:
    # Arrays are written in this machine's byte order and item sizes.
    return f"warninglists-f{FORMAT}-{sys.byteorder[0]}-{fingerprint}.idx"


def write(path: Path, compiled: Compiled, header: dict[str, Any]) -> None:
    """Write atomically: a reader sees the old file or the whole new one."""
    sections: dict[str, tuple[int, int, str]] = {}
    payloads: list[tuple[str, bytes, str]] = [
        (name, values.tobytes(), values.typecode) for name, values in compiled.arrays.items()
    ]
    payloads.append(("blob", compiled.blob, "B"))
    offset = 0
    for name, data, typecode in payloads:
        sections[name] = (offset, len(data), typecode)
        offset += len(data) + (-len(data) % 8)
    head = pickle.dumps(
        {
            **header,
            "format": FORMAT,
            "lists": [tuple(vars_of(info)) for info in compiled.lists],
            "meta": compiled.meta,
            "sections": sections,
        },
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    start = 16 + len(head) + (-(16 + len(head)) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".warninglists-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(MAGIC + len(head).to_bytes(8, "little") + head)
            out.write(b"\0" * (start - 16 - len(head)))
            for _, data, _ in payloads:
                out.write(data)
                out.write(b"\0" * (-len(data) % 8))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the index is public data
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def vars_of(info: Any) -> tuple[Any, ...]:
    return tuple(getattr(info, name) for name in info.__slots__)


class Mapped:
    """An index file mapped into memory: its header and its sections."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self.map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if self.map[:8] != MAGIC:
            raise ValueError(f"{path} is not an Accord warninglists index")
        length = int.from_bytes(self.map[8:16], "little")
        self.header: dict[str, Any] = pickle.loads(self.map[16 : 16 + length])
        self.start = 16 + length + (-(16 + length) % 8)
        self.view = memoryview(self.map)

    def array(self, name: str) -> memoryview:
        offset, length, typecode = self.header["sections"][name]
        begin = self.start + offset
        return self.view[begin : begin + length].cast(typecode)

    def blob_bounds(self) -> tuple[int, int]:
        offset, length, _ = self.header["sections"]["blob"]
        return self.start + offset, self.start + offset + length
