"""MISP in: events, lists of events, search results and feeds, mapped to STIX 2.1 and stored.

MISP is a converter at the edge (docs/architecture.md, principle 1): each event becomes one
STIX bundle (``events.EventConverter``), which the STIX ingester validates, decides access for
and stores whole or not at all. Documents are read one by one (``reader``), so a broken file
is reported and the rest of a batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.ingest.misp.events import Audience, ConvertedEvent, EventConverter
from accord.ingest.misp.reader import MispDocument, read_bytes, read_path
from accord.ingest.stix import Ingester, IngestOptions, IngestReport
from accord.model.tlp import Tlp
from accord.store.gc_pause import collector_paused
from accord.store.node import Store
from accord.store.organisations import NotFound, User

__all__ = [
    "Audience",
    "ConvertedEvent",
    "EventConverter",
    "MispImporter",
    "MispReport",
    "audience_of",
    "read_bytes",
    "read_path",
]


@dataclass(slots=True)
class MispReport:
    """What became of one MISP event (or of a document that held none)."""

    report: IngestReport
    event_uuid: str | None = None
    warnings: list[str] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def summary(self) -> dict[str, Any]:
        return {**self.report.summary(), "event": self.event_uuid, "warnings": self.warnings}


def audience_of(store: Store, own_org: str | None = None) -> Audience:
    """This node's organisations and sharing groups, for MISP distribution levels."""
    orgs = store.directory.orgs()
    by_key: dict[str, str] = {}
    for org in orgs:
        by_key[org.name.lower()] = org.id
        by_key[org.id.removeprefix("identity--").lower()] = org.id
        by_key[org.id.lower()] = org.id
    names: dict[str, str | None] = {}

    def group_named(key: str) -> str | None:
        if key not in names:
            try:
                names[key] = store.directory.group(key).name
            except NotFound:
                names[key] = None
        return names[key]

    return Audience(tuple(org.id for org in orgs), by_key, group_named, own_org)


class MispImporter:
    """Stores MISP events on behalf of one user."""

    def __init__(self, store: Store, user: User, default_tlp: Tlp = Tlp.AMBER) -> None:
        self.ingester = Ingester(store, user, default_tlp)
        self.converter = EventConverter(audience_of(store, user.org_id))

    def ingest_path(
        self,
        path: Path,
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[MispReport]:
        """One report per event of a file, feed directory or folder; errors included."""
        for document in read_path(path):
            yield from self.ingest_document(document, options, progress)

    def _default(self, options: IngestOptions) -> Tlp:
        return options.tlp if options.tlp is not None else self.ingester.default_tlp

    def ingest_paths(
        self,
        paths: Iterable[Path],
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
    ) -> list[MispReport]:
        """Many files in one write: every event is still stored whole or not at all.

        The events of a batch are written in one transaction (one commit instead of one per
        event, which is most of the cost of small events); if any object is rejected, each
        event is then taken on its own, so that the good ones are stored and the bad one is
        reported with its own indexes.
        """
        # Thousands of small dicts live until they are stored: the cyclic collector would walk
        # them again and again for nothing (as in the STIX ingester).
        with collector_paused():
            return self._ingest_paths(paths, options, progress)

    def _ingest_paths(
        self,
        paths: Iterable[Path],
        options: IngestOptions,
        progress: Callable[[int], None] | None,
    ) -> list[MispReport]:
        reports: list[MispReport] = []
        pending: list[tuple[str, ConvertedEvent, list[str]]] = []
        for path in paths:
            for document in read_path(path):
                if document.error is not None or not document.events:
                    reports.extend(self.ingest_document(document, options, progress))
                    continue
                for index, event in enumerate(document.events):
                    source = (
                        document.source
                        if len(document.events) == 1
                        else f"{document.source}[{index}]"
                    )
                    try:
                        converted = self.converter.convert(event, self._default(options))
                    except (KeyError, TypeError, ValueError) as exc:
                        error = f"{source}: cannot map event {event.get('uuid', '')}: {exc!r}"
                        reports.append(MispReport(IngestReport(source, error=error)))
                        continue
                    pending.append((source, converted, document.warnings))
        objects = [obj for _, converted, _ in pending for obj in converted.objects]
        combined = self.ingester.ingest_objects(objects, "2.1", "batch", options, progress)
        if combined.count("rejected") and not options.partial:
            for source, converted, warnings in pending:
                report = self.ingester.ingest_objects(converted.objects, "2.1", source, options)
                reports.append(
                    MispReport(report, converted.event_uuid, list(warnings), converted.kinds)
                )
            return reports
        offset = 0
        for source, converted, warnings in pending:
            report = IngestReport(source, spec_version="2.1")
            for found in combined.objects[offset : offset + len(converted.objects)]:
                found.index -= offset
                report.objects.append(found)
            offset += len(converted.objects)
            reports.append(
                MispReport(report, converted.event_uuid, list(warnings), converted.kinds)
            )
        return reports

    def ingest_document(
        self,
        document: MispDocument,
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[MispReport]:
        if document.error is not None:
            yield MispReport(IngestReport(document.source, error=document.error))
            return
        if not document.events:
            error = f"{document.source}: holds no MISP events"
            yield MispReport(IngestReport(document.source, error=error), None, document.warnings)
            return
        for index, event in enumerate(document.events):
            source = document.source if len(document.events) == 1 else f"{document.source}[{index}]"
            yield self.ingest_event(event, source, options, progress, document.warnings)

    def ingest_event(
        self,
        event: dict[str, Any],
        source: str,
        options: IngestOptions,
        progress: Callable[[int], None] | None = None,
        warnings: list[str] | None = None,
    ) -> MispReport:
        try:
            converted = self.converter.convert(event, self._default(options))
        except (KeyError, TypeError, ValueError) as exc:  # a malformed event, not a crash
            error = f"{source}: cannot map event {event.get('uuid', '')}: {exc!r}"
            return MispReport(IngestReport(source, error=error), None, list(warnings or ()))
        report = self.ingester.ingest_objects(converted.objects, "2.1", source, options, progress)
        return MispReport(
            report,
            converted.event_uuid,
            [*(warnings or ()), *converted.warnings],
            converted.kinds,
        )
