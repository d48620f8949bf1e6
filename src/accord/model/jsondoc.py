"""Limits every JSON document taken in must meet, checked once where it is parsed.

Two things the fast parsers (msgspec, orjson) do not refuse on their own:

- **Depth.** A document nested deeper than `MAX_DEPTH` levels is refused: deeper nesting serves
  no STIX or MISP purpose, and Python code walking it (validation, the write-back) would run out
  of stack. msgspec itself raises RecursionError at about a thousand levels.
- **Duplicate keys.** ``{"object_marking_refs": [RED], "object_marking_refs": [CLEAR]}`` is
  kept as CLEAR by both parsers (the last one wins), while another reader may take the first:
  a document whose objects repeat a key is ambiguous and is refused.

Both are checked at C speed on the usual, well-formed document: ``orjson.dumps`` of the parsed
document wrapped in ``254 - MAX_DEPTH`` lists fails exactly when the document is deeper than
`MAX_DEPTH` (orjson refuses to write more than 254 levels; a test pins it), and the colons of
the text are those of the re-encoded document exactly when no key was dropped (each key has
one colon after it; colons inside strings are the same on both sides, unless the text spells
one ``\\u003a``). Only a document that fails the cheap test is read again, slowly, to say where.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator
from typing import Any, Final

import msgspec
import orjson

__all__ = ["MAX_DEPTH", "JsonDocumentError", "JsonLimitError", "check_document", "loads"]

MAX_DEPTH: Final = 100
"""The deepest nesting of arrays and objects taken in; the top-level value is level 1."""

_ORJSON_LIMIT: Final = 254  # the deepest orjson.dumps writes (tests/api/test_bad_input.py)
_TOKENS: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SHOWN_STEPS: Final = 6


class JsonDocumentError(ValueError):
    """Not JSON, or JSON this node does not take; the message says where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class JsonLimitError(JsonDocumentError):
    """A document too deep or with a repeated key; the message says where."""


_DECODER: Final = msgspec.json.Decoder()


def loads(data: bytes | memoryview) -> Any:
    """Parse a JSON document and check it against the limits (`check_document`).

    msgspec's untyped decoder builds the same dicts and lists as orjson, a quarter faster on a
    large bundle, and keeps integers beyond 64 bits as integers (orjson makes them floats, which
    would silently change a value); orjson is asked again only to say where JSON is broken
    (line and column)."""
    try:
        document = _DECODER.decode(data)
    except RecursionError:
        raise JsonLimitError(too_deep_in_text(data)) from None
    except (msgspec.MsgspecError, UnicodeDecodeError):  # 1e400 and bad UTF-8 included
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if "depth" in exc.msg:
                raise JsonLimitError(too_deep_in_text(data)) from None
            raise JsonDocumentError(
                f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                exc.lineno,
                exc.colno,
            ) from None
    check_document(data, document)
    return document


def check_document(data: bytes | memoryview, document: Any) -> None:
    """Raise `JsonLimitError` if ``document`` (parsed from ``data``) is nested deeper than
    `MAX_DEPTH` or if an object of ``data`` repeats a key."""
    wrapped = document
    for _ in range(_ORJSON_LIMIT - MAX_DEPTH):
        wrapped = [wrapped]
    try:
        written = orjson.dumps(wrapped)
    except TypeError:  # too deep, or an integer orjson cannot write (reported per object)
        path = _too_deep(document, MAX_DEPTH)
        if path is not None:
            raise JsonLimitError(
                f"nested deeper than {MAX_DEPTH} levels at {_show(path)}"
            ) from None
    else:
        text = _searchable(data)
        if written.count(b":") == _colons(text) and not _escapes_a_colon(text):
            return
    _check_duplicates(data)


_CHUNK: Final = 1 << 20


def _searchable(data: bytes | memoryview) -> bytes | mmap.mmap:
    """``data`` as something with ``find``, without copying a mapped file (a copy of a large
    bundle costs more in fresh pages than the search itself)."""
    if isinstance(data, bytes):
        return data
    source = data.obj
    if isinstance(source, bytes | mmap.mmap) and data.nbytes == len(source):
        return source
    return bytes(data)


def _colons(text: bytes | mmap.mmap) -> int:
    if isinstance(text, bytes):
        return text.count(b":")
    # A mapped file has no count: a slice at a time, each copy small enough to stay in cache.
    return sum(text[at : at + _CHUNK].count(b":") for at in range(0, len(text), _CHUNK))


def _escapes_a_colon(text: bytes | mmap.mmap) -> bool:
    """Whether a string of ``text`` spells a colon ``\\u003a``. Backslashes are rare in JSON
    text, and finding each is far cheaper than a search for the whole escape."""
    find = text.find
    at = find(b"\\")
    while at >= 0:
        if text[at + 1 : at + 5] == b"u003" and text[at + 5 : at + 6] in (b"a", b"A"):
            return True
        at = find(b"\\", at + 2)  # past the escaped character: "\\\\" is one backslash
    return False


def too_deep_in_text(data: bytes | memoryview) -> str:
    """Where the text first nests deeper than `MAX_DEPTH` (for a document the parser could
    not even build); a message in the same words as `check_document`'s."""
    depth = 0
    raw = bytes(data)
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                line = raw.count(b"\n", 0, match.start()) + 1
                column = match.start() - (raw.rfind(b"\n", 0, match.start()) + 1) + 1
                return f"nested deeper than {MAX_DEPTH} levels at line {line}, column {column}"
        elif token in (b"]", b"}"):
            depth -= 1
    return f"nested deeper than {MAX_DEPTH} levels"


def _too_deep(
    value: Any, budget: int, path: tuple[str | int, ...] = ()
) -> tuple[str | int, ...] | None:
    """The path of the first array or object below `budget` levels, or None."""
    if type(value) is dict:
        items: Iterator[tuple[str | int, Any]] = iter(value.items())
    elif type(value) is list:
        items = enumerate(value)
    else:
        return None
    if budget == 0:
        return path
    for step, child in items:
        found = _too_deep(child, budget - 1, (*path, step))
        if found is not None:
            return found
    return None


class _Pairs(list[tuple[str, Any]]):
    """An object's members in text order, duplicates kept (json's object_pairs_hook)."""


def _check_duplicates(data: bytes | memoryview) -> None:
    try:
        document = json.loads(bytes(data), object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return  # not for this check to judge: the fast parser took it
    found = _first_duplicate(document, ())
    if found is not None:
        path, key = found
        where = f" at {_show(path)}" if path else ""
        raise JsonLimitError(f"the key {key!r} is given more than once{where}")


def _first_duplicate(
    value: Any, path: tuple[str | int, ...]
) -> tuple[tuple[str | int, ...], str] | None:
    if isinstance(value, _Pairs):
        seen: set[str] = set()
        for key, _ in value:
            if key in seen:
                return path, key
            seen.add(key)
        for key, child in value:
            found = _first_duplicate(child, (*path, key))
            if found is not None:
                return found
    elif type(value) is list:
        for index, child in enumerate(value):
            found = _first_duplicate(child, (*path, index))
            if found is not None:
                return found
    return None


def _show(path: tuple[str | int, ...]) -> str:
    """``objects[0].x[0][0]...``: the first steps of a path."""
    text = ""
    for step in path[:_SHOWN_STEPS]:
        if isinstance(step, int):
            text += f"[{step}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", step):
            text += f".{step}" if text else step
        else:
            text += f"[{json.dumps(step)}]"
    if len(path) > _SHOWN_STEPS:
        text += "..."
    return text or "the top level"
