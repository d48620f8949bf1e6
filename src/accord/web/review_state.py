"""What a report's review hands to its "store" step: the document's text and the facts of
its file, carried in the review form itself (one hidden field), so that nothing is kept on
the server between the two steps and a review left open stores nothing.

The field is the JSON of the text and the facts, deflated and base64url-encoded: a browser
posts it back byte for byte (a hidden text field would have its line breaks rewritten), and
it costs a third of the text. What comes back is checked as any posted data is: its size
before and after inflating, and each fact's type and form. It is not trusted for more: the
values to store are found again in the text (`accord.ingest.extract.report.review_text`),
and the facts (name, SHA-256, size) only describe the person's own report, as a bundle they
upload would.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Final

import orjson

from accord.ingest.extract.report import SourceFile
from accord.ingest.extract.text import FORMATS

MAX_NAME: Final = 255
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


class BadState(ValueError):
    """The posted review state cannot be read (tampered with, cut short, too large)."""


@dataclass(frozen=True, slots=True)
class ReviewState:
    text: str
    source: SourceFile


def encode(state: ReviewState) -> str:
    source = state.source
    document = {
        "text": state.text,
        "name": source.name,
        "sha256": source.sha256,
        "size": source.size,
        "format": source.format,
    }
    return base64.urlsafe_b64encode(zlib.compress(orjson.dumps(document), 6)).decode("ascii")


def decode(field: str, max_text: int) -> ReviewState:
    """The state in a posted field; `BadState` unless it is well formed and its text holds
    at most `max_text` characters."""
    # A character of text is at most 4 bytes of UTF-8 (6 once escaped in JSON).
    limit = 6 * max_text + 4096
    if len(field) > 2 * limit:
        raise BadState("too long")
    try:
        packed = base64.urlsafe_b64decode(field.encode("ascii"))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, limit + 1)
        if len(raw) > limit or not inflater.eof:
            raise BadState("too long once inflated, or cut short")
        document = orjson.loads(raw)
    except (ValueError, binascii.Error, zlib.error, orjson.JSONDecodeError) as exc:
        raise BadState(str(exc)) from None
    if not isinstance(document, dict):
        raise BadState("not an object")
    text, name = document.get("text"), document.get("name")
    sha256, size, format = document.get("sha256"), document.get("size"), document.get("format")
    if not isinstance(text, str) or len(text) > max_text:
        raise BadState("text")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise BadState("name")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise BadState("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise BadState("size")
    if format not in FORMATS:
        raise BadState("format")
    return ReviewState(text, SourceFile(name, sha256, size, str(format)))
