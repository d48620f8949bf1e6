"""Refang a whole document in one pass, remembering where every character came from.

Reports defang indicators so that nobody clicks them: ``hxxps[:]//evil[.]com``,
``1.2.3[.]4``, ``user[at]evil(.)com``. The scanner works on the refanged text; offsets it
finds are mapped back to the original text with `Refanged.original_offset`, so the review
points at what the analyst actually sees. Per value, `accord.model.observables.refang` does
the same job; this module does it for a document at once, with one compiled regex.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Final

# Several small patterns rather than one alternation: each starts with a literal or a small
# character set, which the regex engine finds with a fast search instead of trying every
# branch at every character (on a 2 MB corpus, 20 ms instead of 400 ms).
_BRACKETS: Final = re.compile(
    r"[\[\(\{](?:"
    r"\s*(?P<dot>\.|dot)\s*\\?[\]\)\}]"
    r"|\s*(?P<at>@|at)\s*\\?[\]\)\}]"
    r"|(?P<slashes>://\]|:\]//|:/\]/|:\]\[//\]|:\)//|://\))"
    r"|(?P<colon>:\]|:\))"
    r"|(?P<slash>/\])"
    r"|(?P<s>s\](?<=p\[s\])(?=\s*[\[\(]?:))"
    r")",
    re.IGNORECASE,
)
# hxxp, hXXp, hxxps, h**p, hxtp, hxxxp, fxp (ftp), followed by a colon however written.
# The first letter is a plain character set, checked against what comes before only after
# it, and cases are spelt out rather than left to re.IGNORECASE: both let the regex engine
# skip quickly to the few "h" and "f" that start a word (3x faster than a leading look-behind).
_SCHEMES: Final = re.compile(
    r"[hHfF](?<![A-Za-z0-9][hHfF])"
    r"(?:(?<=[hH])(?P<http>(?:[xX*]{2,3}|[xX][tT]|[tT][xX])[pP])|(?<=[fF])(?P<ftp>[xX]{1,2}[pP]))"
    r"(?=(?:[sS]|\[[sS]\])?\s*[\[\(]?:)"
)
# One character set first (ten times faster than an alternation of two), then which it was:
_SINGLES: Final = re.compile(
    r"[\u200b\u200c\u200d\u2060\ufeff\u00ad\uff0e\u3002\u2024]"
    # Invisible characters that break a value in two without showing.
    r"(?:(?<=[\u200b\u200c\u200d\u2060\ufeff\u00ad])(?P<invisible>)"
    # Full-width and ideographic full stops and the one-dot leader inside a name.
    r"|(?<=\w.)(?=\w)(?P<wide>))"
)
# "evil . com": a dot with one space on each side, between letters or digits.
_SPACED: Final = re.compile(r" \. (?<=[A-Za-z0-9] \. )(?=[A-Za-z0-9])")
# Markdown escapes a dot as "\."; only between a letter/digit and a letter.
_ESCAPED: Final = re.compile(r"\\\.(?<=[A-Za-z0-9]\\\.)(?=[A-Za-z])")

_REPLACEMENT: Final[dict[str, str]] = {
    "http": "http",
    "ftp": "ftp",
    "s": "s",
    "slashes": "://",
    "colon": ":",
    "dot": ".",
    "at": "@",
    "slash": "/",
    "spaced": ".",
    "escaped": ".",
    "wide": ".",
    "invisible": "",
}


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of every defanging token, in order, not overlapping."""
    found: list[tuple[int, int, str]] = []
    for match in _BRACKETS.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        start, end = match.span()
        if kind in ("dot", "at"):
            # "\[.\]" in Markdown, and " [.] " with a space each side.
            if start and text[start - 1] == "\\":
                start -= 1
            if start and text[start - 1] in " \t":
                start -= 1
            if end < len(text) and text[end] in " \t":
                end += 1
        found.append((start, end, _REPLACEMENT[kind]))
    if "x" in text or "X" in text or "*" in text:
        for match in _SCHEMES.finditer(text):
            word = "http" if match.lastgroup == "http" else "ftp"
            found.append((*match.span(), word.upper() if match.group(0)[0] in "HF" else word))
    for pattern, kind in ((_SPACED, "spaced"), (_ESCAPED, "escaped")):
        for match in pattern.finditer(text):
            found.append((*match.span(), _REPLACEMENT[kind]))
    if not text.isascii():
        for match in _SINGLES.finditer(text):
            kind = match.lastgroup
            assert kind is not None
            found.append((*match.span(), _REPLACEMENT[kind]))
    found.sort()
    kept: list[tuple[int, int, str]] = []
    last_end = -1
    for token in found:
        if token[0] >= last_end:
            kept.append(token)
            last_end = token[1]
    return kept


@dataclass(slots=True)
class Refanged:
    """A document's text with defanging undone, and the map back to the original."""

    original: str
    text: str
    # After the i-th replacement, clean offset `_clean_ends[i]` is original offset
    # `_original_ends[i]`; between replacements the two advance together.
    _clean_ends: list[int] = field(default_factory=list)
    _original_ends: list[int] = field(default_factory=list)
    _clean_starts: list[int] = field(default_factory=list)

    def original_offset(self, offset: int) -> int:
        """The original offset of clean offset `offset`."""
        index = bisect_right(self._clean_ends, offset) - 1
        if index < 0:
            return offset
        return offset - self._clean_ends[index] + self._original_ends[index]

    def defanged_between(self, start: int, end: int) -> bool:
        """Whether any replacement happened in clean span [start, end)."""
        index = bisect_right(self._clean_starts, start - 1)
        return index < len(self._clean_starts) and self._clean_starts[index] < end

    @property
    def any_defanged(self) -> bool:
        return bool(self._clean_starts)


def refang_text(original: str) -> Refanged:
    """Undo every defanging convention in `original` (see the patterns above)."""
    pieces: list[str] = []
    result = Refanged(original, original)
    position = 0
    clean_length = 0
    for start, end, replacement in _tokens(original):
        pieces.append(original[position:start])
        clean_length += start - position
        result._clean_starts.append(clean_length)
        pieces.append(replacement)
        clean_length += len(replacement)
        result._clean_ends.append(clean_length)
        result._original_ends.append(end)
        position = end
    if not pieces:
        return result
    pieces.append(original[position:])
    result.text = "".join(pieces)
    return result
