"""CSV (RFC 4180) from the indicators a viewer may see: one row per value, with its type, its
indicator, name, TLP, score and confidence, first and last seen (its sightings), and its
validity. Quoted by Python's csv module (a comma, quote or line break inside a cell stays in
it). A cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with ``'`` (OWASP "CSV injection"). CSV has no
comments: what was left out goes to standard error (the CLI) or the ``Accord-Left-Out``
header (the API)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Final

from accord.export.indicator_items import ExportItem, Tally

COLUMNS: Final = (
    "value",
    "type",
    "indicator_id",
    "name",
    "tlp",
    "score",
    "confidence",
    "first_seen",
    "last_seen",
    "valid_from",
    "valid_until",
    "benign_lists",
)
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A cell's text, defused if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def lines(items: Iterator[ExportItem], tally: Tally) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield take()
    for item in items:
        writer.writerow(
            [
                cell(item.value),
                item.kind,
                item.indicator_id,
                cell(item.name),
                item.tlp.label,
                item.score,
                cell(item.confidence),
                cell(item.first_seen),
                cell(item.last_seen),
                cell(item.valid_from),
                cell(item.valid_until),
                cell(";".join(item.lists)),
            ]
        )
        tally.exported += 1
        yield take()
