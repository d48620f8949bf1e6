"""IOC lists in: each value becomes a STIX 2.1 indicator, stored through the STIX ingester.

`ListIngester` reads a list as a stream (`accord.ingest.ioc_list_formats`), turns each value
into an indicator whose id is a UUIDv5 of (organisation, source, kind, value, port), and hands
chunks of them to `Ingester.ingest_objects`. An id already stored keeps its stored timestamp,
so importing a list again stores nothing new: every entry is a duplicate.

Warninglists live in `accord.intel`, which ingest may not import: the caller passes a
`flagger` (an observable in, the names of the lists it is on out), and the ingester labels
flagged indicators (`x_accord_warninglists`) or skips them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from accord.ingest.ioc_list_formats import (
    BadLine,
    ColumnMap,
    ListEntry,
    read_list,
    read_list_data,
)
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.observables import Observable
from accord.model.patterns import pattern_for
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.objects import now_key
from accord.store.organisations import User

Flagger = Callable[[Observable], list[str]]
"""The names of the warninglists an observable is on ([] for none)."""

# The namespace of list indicator ids (a UUIDv4 chosen once; never change it, or re-imports
# stop being duplicates).
LIST_NAMESPACE: Final = uuid.UUID("5b0f7f43-7d1c-4c36-9a51-1d1e3c0b7e55")
CHUNK: Final = 5000
KEEP_BAD_LINES: Final = 1000  # reported in full up to this many; counted beyond


@dataclass(frozen=True, slots=True)
class ListOptions:
    """How to read and store one list."""

    kind: str = "auto"
    """"auto" (the detector decides per value) or a kind every value must be."""
    columns: ColumnMap | None = None
    format: str = "auto"
    """"auto", "text" (plain, LOKI, maltrail) or "csv"."""
    source: str | None = None
    """The list's name: part of every id, and a label. Default: the file's name."""
    skip_warninglisted: bool = False
    ingest: IngestOptions = field(default_factory=lambda: IngestOptions(partial=True))


@dataclass(slots=True)
class ListReport:
    """The outcome of one list."""

    source: str
    entries: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    warninglisted: int = 0
    skipped: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    bad_lines: list[BadLine] = field(default_factory=list)
    bad_line_count: int = 0
    rejections: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.bad_line_count == 0 and self.rejected == 0

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "entries": self.entries,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "warninglisted": self.warninglisted,
            "skipped_warninglisted": self.skipped,
            "kinds": dict(sorted(self.kinds.items())),
            "bad_lines": self.bad_line_count,
            "bad_line_details": [
                {"line": bad.line, "text": bad.text, "reason": bad.reason} for bad in self.bad_lines
            ],
            "rejections": self.rejections,
        }


def list_totals(reports: Sequence[ListReport]) -> dict[str, object]:
    """What the audit entry of a list import says (as `accord.ingest.stix.ingest_totals`)."""
    return {
        "files": [report.source for report in reports],
        "stored": sum(report.stored for report in reports),
        "duplicates": sum(report.duplicates for report in reports),
        "rejected": sum(report.rejected for report in reports),
    }


def indicator_id(org_id: str, source: str, observable: Observable, port: int | None = None) -> str:
    """The same list entry imported again by the same organisation keeps its id; another
    organisation's import of the same list is its own object (accord.model.holdings)."""
    name = f"{org_id}\0{source}\0{observable.kind}\0{observable.value}\0{port or ''}"
    return f"indicator--{uuid.uuid5(LIST_NAMESPACE, name)}"


class ListIngester:
    """Stores IOC lists as indicators on behalf of one user."""

    def __init__(
        self,
        store: Store,
        user: User,
        default_tlp: Tlp = Tlp.AMBER,
        flagger: Flagger | None = None,
    ) -> None:
        self.store = store
        self.user = user
        self.ingester = Ingester(store, user, default_tlp)
        self.flagger = flagger

    def ingest_file(
        self,
        path: Path,
        options: ListOptions,
        progress: Callable[[int], None] | None = None,
    ) -> ListReport:
        source = options.source or path.name
        entries = read_list(path, options.kind, options.columns, options.format)
        return self.ingest_entries(entries, source, options, progress)

    def ingest_data(
        self,
        data: bytes,
        name: str,
        options: ListOptions,
        progress: Callable[[int], None] | None = None,
    ) -> ListReport:
        """A list given as bytes (an upload) named `name`, as `ingest_file` takes a file."""
        source = options.source or name
        entries = read_list_data(data, name, options.kind, options.columns, options.format)
        return self.ingest_entries(entries, source, options, progress)

    def ingest_entries(
        self,
        entries: Iterable[ListEntry | BadLine],
        source: str,
        options: ListOptions,
        progress: Callable[[int], None] | None = None,
    ) -> ListReport:
        report = ListReport(source)
        chunk: dict[str, dict[str, Any]] = {}
        label = _label(source)
        for item in entries:
            if isinstance(item, BadLine):
                report.bad_line_count += 1
                if len(report.bad_lines) < KEEP_BAD_LINES:
                    report.bad_lines.append(item)
                continue
            report.entries += 1
            report.kinds[item.observable.kind] += 1
            flags = self.flagger(item.observable) if self.flagger is not None else []
            if flags:
                report.warninglisted += 1
                if options.skip_warninglisted:
                    report.skipped += 1
                    continue
            obj = self._indicator(item, source, label, flags)
            chunk.setdefault(obj["id"], obj)  # the same value twice: one indicator
            if len(chunk) >= CHUNK:
                self._flush(chunk, source, options, report, progress)
                chunk = {}
        self._flush(chunk, source, options, report, progress)
        return report

    def _indicator(
        self, item: ListEntry, source: str, label: str, flags: list[str]
    ) -> dict[str, Any]:
        observable = item.observable
        shown = observable.value if item.port is None else f"{observable.value}:{item.port}"
        description = item.description or f"Listed in {source}"
        if item.description:
            description = f"{item.description} (listed in {source})"
        obj: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": indicator_id(self.user.org_id, source, observable, item.port),
            "name": shown,
            "description": description,
            "indicator_types": ["malicious-activity"],
            "pattern": pattern_for(observable, item.port),
            "pattern_type": "stix",
            "created_by_ref": self.user.org_id,
            "labels": [label, "warninglisted"] if flags else [label],
        }
        if item.references:
            obj["external_references"] = [
                {"source_name": source, "url": reference}
                if reference.startswith(("http://", "https://"))
                else {"source_name": source, "description": reference}
                for reference in item.references
            ]
        if flags:
            obj["x_accord_warninglists"] = sorted(set(flags))
        return obj

    def _flush(
        self,
        chunk: dict[str, dict[str, Any]],
        source: str,
        options: ListOptions,
        report: ListReport,
        progress: Callable[[int], None] | None,
    ) -> None:
        if not chunk:
            return
        known = self.ingester.holdings(list(chunk))
        now = now_key()  # the store's fixed-width UTC form is a valid STIX timestamp
        objects = []
        for object_id, obj in chunk.items():
            # A stored id keeps its newest timestamp: the same version again, a duplicate.
            held = known.get(object_id)
            stamp = max(held.own) if held is not None and held.own else now
            objects.append({**obj, "created": stamp, "modified": stamp, "valid_from": stamp})
        ingest = replace(options.ingest, partial=True)
        result = self.ingester.ingest_objects(objects, "2.1", source, ingest, None, known)
        report.stored += result.count("stored")
        report.duplicates += result.count("duplicate")
        report.rejected += result.count("rejected")
        for rejected in result.objects:
            if rejected.status == "rejected" and len(report.rejections) < KEEP_BAD_LINES:
                report.rejections.append(rejected.describe())
        if progress is not None:
            progress(len(chunk))


def _label(source: str) -> str:
    stem = Path(source).stem.strip().lower()
    return "".join(char if char.isalnum() or char in "-_." else "-" for char in stem) or "list"


__all__ = [
    "CHUNK",
    "ColumnMap",
    "Flagger",
    "ListIngester",
    "ListOptions",
    "ListReport",
    "indicator_id",
    "list_totals",
    "pattern_for",
]
