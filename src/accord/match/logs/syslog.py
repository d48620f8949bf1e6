"""Syslog lines: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`), RFC 3164
(`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`, the priority often left out in files), and the
ISO-timestamped form rsyslog writes to files (`2024-01-02T03:04:05+00:00 HOST TAG: MSG`).

The header's host is the machine that logged, not something it met, so only the message
(and RFC 5424 structured-data values) is scanned, with `text_scan.scan_text`. A line that
fits no header is scanned whole: text is text.
"""

from __future__ import annotations

import re
from typing import Final

from accord.match.logs.text_scan import scan_text
from accord.match.logs.types import Candidate

RFC5424: Final = re.compile(
    r"<\d{1,3}>\d{1,2} (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (?P<msg>.*))?"
)
RFC3164: Final = re.compile(
    r"(?:<\d{1,3}>)?(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) "
    r"(?P<host>\S+) (?P<msg>.*)"
)
_SD_VALUE: Final = re.compile(r'="((?:[^"\\]|\\.)*)"')


class Syslog:
    """Line parser for syslog lines (see `accord.match.logs.lines`)."""

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        found: list[Candidate] = []
        match = RFC5424.match(text)
        if match is not None:
            if match["sd"] != "-":
                for value in _SD_VALUE.finditer(match["sd"]):
                    scan_text(found, "structured-data", value.group(1))
            if match["msg"]:
                scan_text(found, "message", match["msg"].removeprefix("\ufeff"))
            return found
        match = RFC3164.match(text)
        scan_text(found, "message", match["msg"] if match is not None else text)
        return found
