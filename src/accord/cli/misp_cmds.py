"""``accord ingest misp`` and ``accord export misp``: MISP events in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import TaskID
from rich.table import Table

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    OutputOpt,
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
from accord.export import misp_feed
from accord.ingest.misp import MispImporter, MispReport
from accord.ingest.stix import IngestOptions


@ingest_app.command("misp")
def ingest_misp(
    paths: Annotated[
        list[Path],
        typer.Argument(help="MISP event files (JSON), feed directories or folders of events."),
    ],
    as_: AsOpt,
    tlp: Annotated[
        str | None,
        typer.Option(
            help="TLP for events without a tlp: tag: clear, green, amber, amber+strict, red."
        ),
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial", help="Store the valid objects of an event that has invalid ones."
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Store MISP events as STIX 2.1: each event whole or not at all (unless --partial).

    Takes {"Event": ...}, lists, {"response": [...]}, and feed directories (manifest.json).
    A broken file is reported and the rest goes on; the exit status is 1 if any failed."""
    level = parse_tlp(tlp)
    reports: list[MispReport] = []
    with open_store() as store:
        user = acting_user(store, as_)
        if not user.role.may_ingest:
            fail(f"{user.email} is {user.role.with_article}: only analysts and admins may ingest")
        importer = MispImporter(store, user, node_settings(store).default_tlp)
        options = IngestOptions(tlp=level, partial=partial)
        with progress_bar(json) as bar:
            for path in paths:
                task = bar.add_task(shown(path.name), total=None)

                def advance(count: int, task: TaskID = task) -> None:
                    bar.advance(task, count)

                for report in importer.ingest_path(path, options, advance):
                    reports.append(report)
                bar.update(task, total=1, completed=1)
        audit(
            store,
            user,
            "write",
            None,
            via="accord ingest misp",
            events=[found.event_uuid for found in reports if found.event_uuid],
            **ingest_totals([found.report for found in reports]),
        )
    _print(reports, json)
    if any(not report.ok for report in reports):
        raise typer.Exit(1)


def _print(reports: list[MispReport], json: bool) -> None:
    if json:
        print_json([report.summary() for report in reports])
        return
    table = Table("file", "event", "stored", "duplicates", "rejected", "not stored")
    for found in reports:
        report = found.report
        table.add_row(
            shown(report.source),
            shown(found.event_uuid or ""),
            str(report.count("stored")),
            str(report.count("duplicate")),
            str(report.count("rejected")),
            str(report.count("not stored")),
        )
    console.print(table)
    for found in reports:
        for warning in found.warnings:
            console.print(f"[yellow]warning[/] {shown(warning)}", highlight=False, soft_wrap=True)
        if found.report.error:
            console.print(f"[red]{shown(found.report.error)}[/]", highlight=False, soft_wrap=True)
        for obj in found.report.objects:
            if obj.status == "rejected":
                console.print(
                    f"[red]rejected[/] {shown(found.report.source)}: {shown(obj.describe())}",
                    highlight=False,
                    soft_wrap=True,
                )


def export_misp(
    as_: AsOpt,
    report: Annotated[
        str | None,
        typer.Option("--report", help="Only this report (its id or the MISP event uuid)."),
    ] = None,
    output: OutputOpt = None,
    json: JsonOpt = False,
) -> None:
    """Export reports the user may see as MISP events ({"response": [...]}, or one event)."""
    with open_store() as store:
        viewer = store.directory.viewer(acting_user(store, as_))
        if report is not None:
            event_uuid = report.removeprefix("report--")
            found = misp_feed.event(store, viewer, event_uuid)
            if found is None:
                fail(f"no report {report} that {as_} may see", code=1)
            document: object = found
        else:
            document = {"response": list(misp_feed.all_events(store, viewer))}
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    if output is None:
        typer.echo(data.decode())
        return
    output.write_bytes(data + b"\n")
    if json:
        print_json({"output": str(output)})
    else:
        console.print(f"Wrote {shown(output)}.")
