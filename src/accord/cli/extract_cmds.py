"""``accord extract FILE...``: the indicators in reports (``accord ingest report`` stores them).

Thin adapters over `accord.ingest.extract`: read the file, call the library, print.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from accord.cli.context import JsonOpt, console, fail, print_json, read_input
from accord.cli.display import shown
from accord.ingest.extract import DocumentError, Finding, ScanOptions, read_document, scan


def _print_findings(name: str, findings: list[Finding]) -> None:
    table = Table("type", "value", "offset", "flags", "context", title=shown(name))
    for finding in findings:
        flags = "; ".join(f"{flag.code}: {flag.reason}" for flag in finding.flags)
        value = finding.value + (f" (port {finding.port})" if finding.port else "")
        table.add_row(
            shown(finding.kind),
            shown(value),
            str(finding.start),
            f"[yellow]{shown(flags)}[/]" if flags else "",
            shown(finding.context[:80]),
        )
    console.print(table)
    flagged = sum(1 for finding in findings if finding.flagged)
    console.print(f"{len(findings)} values, {flagged} flagged.")


def extract(
    files: Annotated[
        list[str],
        typer.Argument(help="Reports: .txt .md .adoc .html .pdf, or - for standard input."),
    ],
    json: JsonOpt = False,
) -> None:
    """List the indicators in reports: type, refanged value, where, and why flagged."""
    results: list[dict[str, Any]] = []
    for path in files:
        name, data = read_input(path)
        try:
            document = read_document(data, name)
        except DocumentError as exc:
            fail(str(exc))
        findings = scan(document.text, ScanOptions())
        if json:
            results.append(
                {
                    "file": path,
                    "format": document.format,
                    "values": [finding.json() for finding in findings],
                }
            )
        else:
            _print_findings(path, findings)
    if json:
        print_json(results)
