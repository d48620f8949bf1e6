"""The vocabulary of the log readers: where a record is, what it may hold, what went wrong.

A reader turns each line (or record) of a log into a `Record`: its `Location` and the
`Candidate` observables found in the fields that can hold one. Lines that cannot be read
become `Problem`s handed to a callback; reading goes on. Only an input that cannot be read at
all (an unknown format, a Zeek log without `#fields`, a bad field map) raises `LogFormatError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from accord.model.observables import Observable

CANDIDATE_KINDS: Final = frozenset(
    {"ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512"}
)
"""Kinds a reader reports (`Observable.kind` of every candidate is one of these)."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a record starts: for a hit report, and to find the line again with `tail -c`."""

    source: str
    """File name as given, or "-" for standard input."""
    line: int
    """1-based line number."""
    offset: int
    """Byte offset of the line's first byte in the (decompressed) input."""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}"


# Not frozen, for speed: a reader makes one per observable of every line.
@dataclass(slots=True)
class Candidate:
    """One value of a record that may be an indicator."""

    field: str
    """The field as the format names it ("query", "id.resp_h", "dns.rrname", "request")."""
    raw: str
    """The value as the log wrote it (after the format's own unescaping)."""
    observable: Observable
    """The value normalised as the observable index stores it: compare `(kind, value)`."""

    @property
    def kind(self) -> str:
        return self.observable.kind


@dataclass(slots=True)
class Record:
    """One log record and the observables it holds (possibly none)."""

    location: Location
    candidates: list[Candidate]


@dataclass(frozen=True, slots=True)
class Problem:
    """A line that could not be read; the reader skipped it and went on."""

    location: Location
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


ProblemSink = Callable[[Problem], None]
"""Where readers report bad lines (e.g. `ProblemLog.add`, or a CLI's warning printer)."""


class LogFormatError(ValueError):
    """An input that cannot be read at all; the message names the input and says why."""


class LineError(ValueError):
    """Raised by a format's line parser: the line is reported as a `Problem` and skipped."""


class ProblemLog:
    """Counts problems by reason and keeps the first `keep` of them, so that a log with a
    million bad lines costs a counter, not a million objects."""

    def __init__(self, keep: int = 100) -> None:
        self.keep = keep
        self.count = 0
        self.first: list[Problem] = []
        self.by_reason: dict[str, int] = {}

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(problem)
        reason = problem.reason.partition(":")[0]
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    @property
    def lines(self) -> list[int]:
        """Line numbers of the problems kept."""
        return [problem.location.line for problem in self.first]
