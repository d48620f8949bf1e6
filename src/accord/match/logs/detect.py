"""`--format auto`: telling a log's format from its first lines.

Each of the first `SAMPLE_LINES` non-blank lines votes for the first format whose shape it
has, in this order (most specific first):

| format | a line that |
| --- | --- |
| zeek | starts with `#separator` (Zeek's TSV header; only the first line is asked) |
| suricata-eve | is a JSON object with `event_type` |
| zeek-json | is a JSON object with `ts` and `uid` or `id.orig_h` (or nested `id`) |
| jsonl | is any other JSON object |
| cef | holds `CEF:<digit>|` |
| squid | matches Squid's native access.log line |
| combined | matches the NCSA common/combined line (nginx, Apache) |
| syslog | starts with an RFC 5424/3164 header or an ISO timestamp and a host |
| csv | (first line only) has two or more commas and no spaces around them |

The format with most votes wins; with no votes, `LogFormatError` asks for `--format`.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import orjson

from accord.match.logs import cef, combined, squid, syslog
from accord.match.logs.types import LogFormatError

SAMPLE_LINES: Final = 20


def detect_format(head: bytes, name: str = "input") -> str:
    """The format of an input whose first bytes are `head`."""
    text = head.decode("utf-8", "replace")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if len(head) >= 65536 and len(lines) > 1:
        lines.pop()  # cut in the middle
    lines = [line for line in lines if line.strip()][:SAMPLE_LINES]
    if not lines:
        raise LogFormatError(f"{name}: empty, or only blank lines: nothing to detect")
    if lines[0].startswith("#separator"):
        return "zeek"
    votes: Counter[str] = Counter()
    for line in lines:
        vote = _shape(line)
        if vote is not None:
            votes[vote] += 1
    if not votes and _looks_like_csv(lines[0]):
        return "csv"
    if not votes:
        raise LogFormatError(
            f"{name}: cannot tell the format from its first lines (starts {lines[0][:60]!r});"
            " give --format"
        )
    return votes.most_common(1)[0][0]


def _shape(line: str) -> str | None:
    stripped = line.lstrip()
    if stripped.startswith("{"):
        try:
            record = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(record, dict):
            return None
        if "event_type" in record:
            return "suricata-eve"
        if "ts" in record and ("uid" in record or "id.orig_h" in record or "id" in record):
            return "zeek-json"
        return "jsonl"
    if "CEF:" in line and cef.CEF_START.search(line) is not None:
        return "cef"
    if squid.LINE.fullmatch(line):
        return "squid"
    if combined.LINE.fullmatch(line):
        return "combined"
    if syslog.RFC5424.match(line) or syslog.RFC3164.match(line):
        return "syslog"
    return None


def _looks_like_csv(line: str) -> bool:
    return line.count(",") >= 2 and ", " not in line
