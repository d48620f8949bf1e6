"""Where the scanner's patterns are tried: fast forms of ``pattern.finditer(text)`` that try a
pattern only where a match can start, and a test of domain labels that spares running
`patterns.DOMAIN_NAME`.

Each finds exactly what the plain form it stands for finds (tests/ingest/test_extract_fast_paths.py
checks them against it); `scanner` uses them in its passes over a document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from accord.ingest.extract import patterns as p


def matches_on_lines(
    pattern: re.Pattern[str], text: str, trigger: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text)` finds, for a pattern whose matches never cross a line
    break and always hold a match of `trigger`: only the lines with a trigger are searched.

    A trigger is a short literal the engine finds at memory speed, while a pattern that can
    start at any letter or digit costs a step per character of the whole text. Searching a
    line with `pos`/`endpos` sees the same text: look-behinds read before `pos`, and at
    `endpos` a look-ahead sees an end where it would have seen a line break, which none of
    these patterns can consume.
    """
    position = 0
    while (hit := trigger.search(text, position)) is not None:
        start = text.rfind("\n", 0, hit.start()) + 1
        end = text.find("\n", hit.end())
        if end < 0:
            end = len(text)
        yield from pattern.finditer(text, start, end)
        position = end


def ipv4_matches(text: str) -> Iterator[re.Match[str]]:
    """What `p.IPV4.finditer(text)` finds, tried only where a match can start.

    A match starts with the one to three digits before its first dot, which
    `p.IPV4_TRIGGER` finds from the dot; the pattern's own look-behind (which reads before
    `pos`) turns down a start inside a longer run of digits or after a letter or a dot.
    Matches do not overlap: after one, the search goes on from its end."""
    search, match_at = p.IPV4_TRIGGER.search, p.IPV4.match
    position = resume = 0
    while (hit := search(text, position)) is not None:
        dot = start = hit.start()
        while start > 0 and dot - start < 3 and "0" <= text[start - 1] <= "9":
            start -= 1
        match = match_at(text, start) if dot > start >= resume else None
        if match is not None:
            yield match
            resume = position = match.end()
        else:
            position = dot + 1


def service_lines(text: str) -> Iterator[re.Match[str]]:
    """What `p.SERVICE_LINE.finditer(text)` finds: it is tried only at the start of the
    lines that hold "port " or ":<port> - ", one of which every match holds on its line."""
    starts: set[int] = set()
    for trigger in (p.TRAFFIC_TRIGGER, p.SERVICE_COLON_TRIGGER):
        for hit in trigger.finditer(text):
            starts.add(text.rfind("\n", 0, hit.start()) + 1)
    match_at = p.SERVICE_LINE.match
    for start in sorted(starts):
        match = match_at(text, start)
        if match is not None:
            yield match


def plain_labels(text: str, start: int, dot: int) -> bool:
    """Whether `text[start:dot]` (name characters, `p.NAME_RUN`, the first a letter or digit)
    is labels as `p.DOMAIN_NAME` wants them, seen without running it: each starts and ends
    with a letter or digit unless "." meets "-", "_" or "." (False: ask the pattern)."""
    labels = text[start:dot]
    return (
        len(labels) <= 63
        and text[dot - 1].isalnum()
        and ".." not in labels
        and ".-" not in labels
        and "-." not in labels
        and "._" not in labels
        and "_." not in labels
    )


def hex_runs(text: str) -> Iterator[tuple[int, int]]:
    """The spans `p.HEX_HASH.finditer(text)` finds.

    For ASCII text (most reports), over its bytes mapped to classes (`p.HEX_CLASSES`), where
    `p.HEX_RUN` starts with a literal: the engine skips to runs of 32 hex digits instead of
    trying a match at every digit. The look-behind is checked here, so that a run of 32 or
    more inside a longer word is turned down as `HEX_HASH` turns it down."""
    if not text.isascii():
        for match in p.HEX_HASH.finditer(text):
            yield match.span()
        return
    classes = text.encode("ascii").translate(p.HEX_CLASSES)
    for run in p.HEX_RUN.finditer(classes):
        start = run.start()
        if start and classes[start - 1] in b"ha":
            continue  # inside a longer word (`HEX_HASH`'s look-behind)
        yield start, run.end()


def match_start(match: re.Match[str]) -> int:
    return match.start()


def line_start_matches(
    pattern: re.Pattern[str], text: str, trigger: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """What `pattern.finditer(text)` finds, for a pattern that starts at a line start ("^"
    in MULTILINE mode) and holds a match of `trigger` on its first line: it is tried only at
    the start of those lines."""
    position = 0
    resume = 0  # where the last match ended: matches do not overlap
    while (hit := trigger.search(text, position)) is not None:
        start = text.rfind("\n", 0, hit.start()) + 1
        match = pattern.match(text, start) if start >= resume else None
        if match is not None:
            yield match
            resume = match.end()
        end = text.find("\n", hit.end())
        if end < 0:
            break
        position = end
