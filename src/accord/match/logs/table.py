"""CSV with a header row, and JSON lines: the formats read through a field map.

Without a field map every column (CSV) or every text value (JSON, nested objects
flattened to dotted names) is tried with the model's detection; with one, only the mapped
fields are read, as the role each names. A CSV record is one line: a quoted value that
holds a line break is reported as a line with the wrong field count.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

from accord.match.logs.candidates import add
from accord.match.logs.fields import FieldSpec
from accord.match.logs.types import Candidate, LineError, LogFormatError
from accord.match.logs.zeek import flatten, lookup, parse_json_object


class CsvTable:
    """Line parser for CSV with a header row (see `accord.match.logs.lines`)."""

    def __init__(self, fields: Sequence[FieldSpec] | None = None, delimiter: str = ",") -> None:
        self.fields = fields
        self.delimiter = delimiter
        self.header: list[str] | None = None
        self.columns: list[tuple[int, str, str]] = []

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        try:
            row = next(csv.reader([text], delimiter=self.delimiter, strict=True))
        except csv.Error as exc:
            raise LineError(f"not CSV: {exc}") from None
        if self.header is None:
            self._start(row)
            return None
        if len(row) != len(self.header):
            raise LineError(
                f"wrong field count: {len(row)} fields where the header names {len(self.header)}"
            )
        found: list[Candidate] = []
        for index, name, role in self.columns:
            value = row[index]
            if value:
                add(found, name, role, value)
        return found

    def _start(self, header: list[str]) -> None:
        self.header = [name.strip() for name in header]
        if self.fields is None:
            self.columns = [(index, name, "auto") for index, name in enumerate(self.header)]
            return
        missing = [spec.path for spec in self.fields if spec.path not in self.header]
        if missing:
            raise LogFormatError(
                f"no column {', '.join(map(repr, missing))} in the CSV header "
                f"({', '.join(self.header)})"
            )
        self.columns = [
            (self.header.index(spec.path), spec.name, spec.role) for spec in self.fields
        ]


class JsonLines:
    """Line parser for JSON lines through a field map (see `accord.match.logs.lines`)."""

    def __init__(self, fields: Sequence[FieldSpec] | None = None) -> None:
        self.fields = fields

    def parse(self, text: str) -> list[Candidate] | None:
        if not text.strip():
            return None
        record = parse_json_object(text)
        found: list[Candidate] = []
        if self.fields is None:
            for name, value in flatten(record):
                _add_any(found, name, "auto", value)
            return found
        for spec in self.fields:
            _add_any(found, spec.name, spec.role, lookup(record, spec.path))
        return found


def _add_any(found: list[Candidate], name: str, role: str, value: Any) -> None:
    if isinstance(value, str):
        if value:
            add(found, name, role, value)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item:
                add(found, name, role, item)
