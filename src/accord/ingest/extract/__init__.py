"""Indicators from prose: refang, scan, flag, and turn a report into reviewed STIX.

`read_document` turns a file's bytes into text (`text`), `scan` finds and flags the values
(`scanner`, `pattern_search`, `patterns`, `defang`, `flags`), and `report_bundle` makes the
STIX report that `accord ingest report` and the API store (`report`).
"""

from accord.ingest.extract.findings import EXTRACT_KINDS, Finding, Flag
from accord.ingest.extract.flags import Flagger
from accord.ingest.extract.scanner import ScanOptions, scan
from accord.ingest.extract.text import Document, DocumentError, read_document

__all__ = [
    "EXTRACT_KINDS",
    "Document",
    "DocumentError",
    "Finding",
    "Flag",
    "Flagger",
    "ScanOptions",
    "read_document",
    "scan",
]
