"""A report (text, Markdown, AsciiDoc, HTML or PDF) to reviewed STIX 2.1.

`report_bundle` is what `accord ingest report` and the API's ``POST /api/v1/reports`` call:
it reads the document, scans it, and returns the review (every value found, with its flags)
and the STIX objects to store: one `report` (STIX 2.1 section 4.14) named after the file,
carrying the file's name and SHA-256 as an external reference, and one `indicator` per
unflagged value with a STIX pattern (section 9), or per value when flagged ones are asked for.

Ids are UUIDv5 of the file's SHA-256 and the value, so that taking the same file in twice
gives the same objects (new versions of them), never a second copy.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from accord.ingest.extract.findings import Finding
from accord.ingest.extract.flags import Flagger
from accord.ingest.extract.scanner import ScanOptions, scan
from accord.ingest.extract.text import read_document
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
    raw = data.encode("utf-8") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    document = read_document(raw, filename, options.format)
    findings = scan(document.text, ScanOptions(flagger=options.flagger))
    included = [
        finding
        for finding in findings
        if (options.include_flagged or not finding.flagged) and stix_pattern(finding) is not None
    ]
    now = _timestamp()
    common: dict[str, Any] = {"spec_version": "2.1", "created": now, "modified": now}
    if options.created_by_ref:
        common["created_by_ref"] = options.created_by_ref
    indicators = [_indicator(finding, digest, now, common) for finding in included]
    report_id = f"report--{uuid.uuid5(_NAMESPACE, digest)}"
    report: dict[str, Any] = {
        "type": "report",
        "id": report_id,
        **common,
        "name": options.name or filename,
        "description": f"Indicators extracted from {filename} ({len(included)} of "
        f"{len(findings)} values found; flagged values "
        f"{'included' if options.include_flagged else 'left out'}).",
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
        "x_accord_source_file": {"name": filename, "sha256": digest, "size": len(raw)},
    }
    review = Review(filename, digest, document.format, len(raw), findings, included, report_id)
    return review, [report, *indicators]


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
