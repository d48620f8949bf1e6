"""Observables in free text written by programs (syslog messages): a small scanner.

Why not Accord's report scanner (`accord.ingest.extract`): it is built for prose written by
people - refanging, defanged-value bookkeeping, flags, file paths and registry keys, a
public-suffix look-up per name - and it sits in `ingest`, a layer `match` may not import.
Program output is not defanged and needs none of that; what it needs is to be fast on a
line. So this scans each line with a handful of regular expressions, longest kinds first
(URLs, then e-mail addresses, whose hosts are not reported again as bare names), and
checks every value with the model's normalisers as the other readers do.

A bare name is taken as a domain only when its last label is letters and is not a common
file extension or a program's dotted identifier ("sshd.service", "java.lang.Error" are
not names); the matcher compares every candidate with a set, so a stray one costs a
look-up, not a false hit.
"""

from __future__ import annotations

import re
from typing import Final

from accord.match.logs.candidates import add
from accord.match.logs.types import Candidate

_URL: Final = re.compile(r"\b(?:https?|ftp)://[^\s\"'<>`]+", re.IGNORECASE)
_EMAIL: Final = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,63}\b")
_IPV4: Final = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)")
_IPV6: Final = re.compile(
    r"(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![0-9A-Fa-f:])"
)
_DIGEST: Final = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{128}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})"
    r"(?![0-9A-Fa-f])"
)
_NAME: Final = re.compile(
    r"(?<![\w.-])(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)+[A-Za-z]{2,63}\.?"
    r"(?![\w-])"
)
_URL_TRAILER: Final = ".,;:!?)]}'\""
NOT_TOP_LEVEL: Final = frozenset(
    """exe dll sys bat cmd vbs js jar doc docx xls xlsx ppt pptx pdf rtf txt log tmp dat bin
    ini cfg conf jpg jpeg png gif bmp iso img rar gz tgz bz2 xz tar so php asp aspx jsp html
    htm xml json csv yaml yml service socket target timer mount slice scope pid lock sock
    py pl rb sh c h cpp java class go rs d err out""".split()  # noqa: SIM905
)


def scan_text(found: list[Candidate], field: str, text: str) -> None:
    """Append to `found` every observable in `text`, each named `field`."""
    claimed: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        value = match.group(0).rstrip(_URL_TRAILER)
        add(found, field, "url", value)
        claimed.append((match.start(), match.start() + len(value)))
    for match in _EMAIL.finditer(text):
        if not _inside(match.start(), claimed):
            add(found, field, "email", match.group(0))
            claimed.append(match.span())
    for match in _IPV4.finditer(text):
        if not _inside(match.start(), claimed):
            add(found, field, "address", match.group(0))
    if text.count(":") >= 2:
        for match in _IPV6.finditer(text):
            value = match.group(0)
            if value.count(":") >= 2 and not _inside(match.start(), claimed):
                add(found, field, "address", value)
    for match in _DIGEST.finditer(text):
        if not _inside(match.start(), claimed):
            add(found, field, "hash", match.group(0))
    for match in _NAME.finditer(text):
        value = match.group(0)
        tld = value.rstrip(".").rpartition(".")[2].lower()
        if tld in NOT_TOP_LEVEL or _inside(match.start(), claimed):
            continue
        add(found, field, "domain", value)


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)
