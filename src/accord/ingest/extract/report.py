"""A report (text, Markdown, AsciiDoc, HTML or PDF) to reviewed STIX 2.1.

`report_bundle` is what `accord ingest report` calls: it reads the document, scans it, and
returns the review (every value found, with its flags) and the STIX objects to store: one
`report` (STIX 2.1 section 4.14) named after the file, carrying the file's name and SHA-256 as
an external reference, and one `indicator` per unflagged value with a STIX pattern (section
9), or per value when flagged ones are asked for.

The portal takes the same steps apart, with a person between them: `read_report` (the
document's text and the facts of its file), `review_text` (the findings, shown for review),
then, on "store", `review_text` again over the same text with the values the person kept
(`ReportOptions.keep`) and `report_objects`. Only values found in the text can be kept, so
what a form posts back cannot make an indicator of anything else.

Ids are UUIDv5 of the file's SHA-256 and the value, so that taking the same file in twice
gives the same objects (new versions of them), never a second copy.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from accord.ingest.extract.findings import Finding
from accord.ingest.extract.flags import Flagger
from accord.ingest.extract.scanner import ScanOptions, scan
from accord.ingest.extract.text import Document, read_document
from accord.model.observable_types import HASH_NAME_OF_KIND, SCO_TYPE_OF_KIND
from accord.model.patterns import quote_literal

# A fixed namespace for the UUIDv5 ids of objects made from reports.
_NAMESPACE: Final = uuid.UUID("7b3c6f0e-2f4a-5c1e-9d57-6a0f3c2b8e41")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """How to turn a document into STIX."""

    include_flagged: bool = False
    """Make indicators of flagged values too (they are always in the review)."""
    flagger: Flagger | None = None
    """Extra flags from outside the ingest layer (e.g. warninglists); see `flags`."""
    created_by_ref: str | None = None
    """The identity of the organisation that takes the report in."""
    name: str | None = None
    """The report's name; the file name when not given."""
    format: str | None = None
    """text, markdown, asciidoc, html or pdf; guessed from the content and name if None."""
    keep: Collection[tuple[str, str]] | None = None
    """The (type, value) pairs a person kept in review: exactly the findings among them
    that have a STIX pattern become indicators, flagged or not (`include_flagged` is not
    read). Pairs that the document does not hold are ignored."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """The file a report was read from: named in the report, and the seed of its ids."""

    name: str
    sha256: str
    size: int
    format: str


@dataclass(slots=True)
class Review:
    """What was found, for an analyst to read before (or instead of) storing it."""

    name: str
    sha256: str
    format: str
    size: int
    findings: list[Finding]
    included: list[Finding]
    report_id: str

    def json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return {
            "file": self.name,
            "sha256": self.sha256,
            "format": self.format,
            "size": self.size,
            "report_id": self.report_id,
            "found": len(self.findings),
            "flagged": sum(1 for finding in self.findings if finding.flagged),
            "included": len(self.included),
            "by_type": counts,
            "values": [finding.json() for finding in self.findings],
        }


def report_bundle(
    data: bytes | str, filename: str, options: ReportOptions | None = None
) -> tuple[Review, list[dict[str, Any]]]:
    """The review of document `data` and the STIX 2.1 objects for it (report first).

    Raises `accord.ingest.extract.text.DocumentError` for a document that cannot be read.
    """
    options = options or ReportOptions()
    source, document = read_report(data, filename, options.format)
    review = review_text(document.text, source, options)
    return review, report_objects(review, options)


def read_report(
    data: bytes | str, filename: str, format: str | None = None
) -> tuple[SourceFile, Document]:
    """The facts of the file and its text (a `DocumentError` if it cannot be read)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    document = read_document(raw, filename, format)
    source = SourceFile(filename, hashlib.sha256(raw).hexdigest(), len(raw), document.format)
    return source, document


def review_text(text: str, source: SourceFile, options: ReportOptions | None = None) -> Review:
    """The values found in `text` (read from `source`), flagged, and those to store."""
    options = options or ReportOptions()
    findings = scan(text, ScanOptions(flagger=options.flagger))
    if options.keep is not None:
        kept = frozenset(options.keep)
        chosen = [finding for finding in findings if (finding.kind, finding.value) in kept]
    else:
        chosen = [f for f in findings if options.include_flagged or not f.flagged]
    included = [finding for finding in chosen if stix_pattern(finding) is not None]
    return Review(
        source.name,
        source.sha256,
        source.format,
        source.size,
        findings,
        included,
        report_id_of(source.sha256),
    )


def report_id_of(sha256: str) -> str:
    """The id of the report made from the file whose SHA-256 is `sha256`."""
    return f"report--{uuid.uuid5(_NAMESPACE, sha256)}"


def report_objects(review: Review, options: ReportOptions | None = None) -> list[dict[str, Any]]:
    """The STIX 2.1 objects of a review: the report first, then an indicator per value it
    includes."""
    options = options or ReportOptions()
    filename, digest, included = review.name, review.sha256, review.included
    now = _timestamp()
    common: dict[str, Any] = {"spec_version": "2.1", "created": now, "modified": now}
    if options.created_by_ref:
        common["created_by_ref"] = options.created_by_ref
    indicators = [_indicator(finding, digest, now, common) for finding in included]
    report_id = review.report_id
    if options.keep is not None:
        chosen = "chosen in review"
    else:
        chosen = f"flagged values {'included' if options.include_flagged else 'left out'}"
    report: dict[str, Any] = {
        "type": "report",
        "id": report_id,
        **common,
        "name": options.name or filename,
        "description": f"Indicators extracted from {filename} ({len(included)} of "
        f"{len(review.findings)} values found; {chosen}).",
        "report_types": ["threat-report"],
        "published": now,
        "object_refs": [indicator["id"] for indicator in indicators] or [report_id],
        "external_references": [
            {
                "source_name": "file",
                "description": filename,
                "hashes": {"SHA-256": digest},
            }
        ],
        "x_accord_source_file": {"name": filename, "sha256": digest, "size": review.size},
    }
    return [report, *indicators]


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _indicator(finding: Finding, digest: str, now: str, common: dict[str, Any]) -> dict[str, Any]:
    pattern = stix_pattern(finding)
    assert pattern is not None
    indicator: dict[str, Any] = {
        "type": "indicator",
        "id": f"indicator--{uuid.uuid5(_NAMESPACE, f'{digest}|{finding.kind}|{finding.value}')}",
        **common,
        "name": finding.value,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": now,
        "indicator_types": ["malicious-activity"]
        if not finding.flagged
        else ["anomalous-activity"],
        "description": f"{finding.kind} found in the report: {finding.context}"[:1000],
    }
    if finding.flags:
        indicator["x_accord_flags"] = [flag.json() for flag in finding.flags]
    return indicator


# Onion addresses are domain names to STIX.
_VALUE_TYPES: Final[dict[str, str]] = {**SCO_TYPE_OF_KIND, "onion": "domain-name"}


def stix_pattern(finding: Finding) -> str | None:
    """The STIX pattern that matches `finding`'s value, or None for kinds that are context
    rather than indicators (CVE ids, ATT&CK techniques)."""
    kind, value = finding.kind, finding.value
    if kind in _VALUE_TYPES:
        return f"[{_VALUE_TYPES[kind]}:value = {quote_literal(value)}]"
    if kind in HASH_NAME_OF_KIND:
        return f"[file:hashes.'{HASH_NAME_OF_KIND[kind]}' = {quote_literal(value)}]"
    if kind == "registry-key":
        return f"[windows-registry-key:key = {quote_literal(value)}]"
    if kind == "file-path":
        separator = "\\" if "\\" in value else "/"
        directory, _, name = value.rstrip(separator).rpartition(separator)
        if not directory or not name:
            return f"[directory:path = {quote_literal(value)}]"
        return (
            f"[file:name = {quote_literal(name)} AND "
            f"file:parent_directory_ref.path = {quote_literal(directory)}]"
        )
    if kind in ("bitcoin", "ethereum"):
        # No STIX 2.1 object for wallets: a custom one (section 11.1), "x-" prefixed.
        return f"[x-cryptocurrency-wallet:address = {quote_literal(value)}]"
    return None
