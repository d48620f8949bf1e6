"""``accord extract FILE...`` and ``accord ingest report FILE``: indicators from prose.

Thin adapters over `accord.ingest.extract`: read the file, call the library, print.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    acting_user,
    audit,
    console,
    fail,
    node_settings,
    open_store,
    parse_tlp,
    print_json,
)
from accord.cli.display import shown
from accord.cli.ingest import ingest_app, ingest_totals, progress_bar
from accord.ingest.extract import DocumentError, Finding, ScanOptions, read_document, scan
from accord.ingest.extract.report import ReportOptions, report_bundle
from accord.ingest.stix import Ingester, IngestOptions, recipients_from_names


def _read(path: str) -> tuple[str, bytes]:
    """(name, bytes) of a file argument; "-" is standard input."""
    if path == "-":
        return "<stdin>", sys.stdin.buffer.read()
    file = Path(path)
    if not file.is_file():
        fail(f"{path}: no such file")
    return file.name, file.read_bytes()


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
        name, data = _read(path)
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


@ingest_app.command("report")
def ingest_report(
    file: Annotated[str, typer.Argument(help="A report (.txt .md .adoc .html .pdf, or -).")],
    as_: AsOpt,
    tlp: Annotated[
        str | None,
        typer.Option(help="TLP for the report and its indicators: clear, green, amber, ..."),
    ] = None,
    recipients: Annotated[
        str | None,
        typer.Option(help="Comma-separated organisations (or group:NAME) that may also see it."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The report's name (default: file name).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the review as JSON; store nothing.")
    ] = False,
    include_flagged: Annotated[
        bool, typer.Option("--include-flagged", help="Make indicators of flagged values too.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Extract the indicators of a report and store them as a STIX 2.1 report."""
    level = parse_tlp(tlp)
    filename, data = _read(file)
    with open_store() as store:
        user = acting_user(store, as_)
        if not user.role.may_ingest:
            fail(f"{user.email} is {user.role.with_article}: only analysts and admins may ingest")
        org = store.directory.org(user.org_id)
        options = ReportOptions(include_flagged=include_flagged, created_by_ref=org.id, name=name)
        try:
            review, objects = report_bundle(data, filename, options)
        except DocumentError as exc:
            fail(str(exc))
        if dry_run:
            print_json({"review": review.json(), "objects": len(objects), "stored": False})
            return
        ingest_options = IngestOptions(
            tlp=level, recipients=recipients_from_names(store, (recipients or "").split(","))
        )
        ingester = Ingester(store, user, node_settings(store).default_tlp)
        with progress_bar(json) as bar:
            task = bar.add_task(shown(filename), total=len(objects))
            outcome = ingester.ingest_objects(objects, "2.1", filename, ingest_options)
            bar.update(task, completed=len(objects))
        audit(
            store,
            user,
            "write",
            review.report_id,
            via="accord ingest report",
            **ingest_totals([outcome]),
        )
    summary = {**outcome.summary(), "report_id": review.report_id, "review": review.json()}
    if json:
        print_json(summary)
    else:
        console.print(
            f"Stored report [bold]{shown(review.report_id)}[/] from {shown(filename)}: "
            f"{len(review.included)} indicators of {len(review.findings)} values "
            f"({sum(1 for f in review.findings if f.flagged)} flagged"
            f"{', included' if include_flagged else ', left out'}); "
            f"{outcome.count('stored')} objects stored, {outcome.count('duplicate')} duplicates."
        )
    if not outcome.ok:
        for report in outcome.objects:
            if report.status == "rejected":
                console.print(f"[red]rejected[/] {shown(report.describe())}", highlight=False)
        raise typer.Exit(1)
