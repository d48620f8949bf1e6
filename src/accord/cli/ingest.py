"""``accord ingest``: take intelligence in. ``accord ingest FILE...`` reads STIX bundles;
other formats are subcommands (``accord ingest list``, ``accord ingest report``, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

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
from accord.ingest.stix import Ingester, IngestOptions, IngestReport, recipients_from_names


class DefaultToStix(TyperGroup):
    """A group whose first argument, when it is not a subcommand, is a STIX file: so that
    ``accord ingest FILE...`` keeps working beside ``accord ingest list FILE``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click.Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["stix", *args]
        return super().parse_args(ctx, args)


ingest_app = typer.Typer(
    cls=DefaultToStix,
    help="Take intelligence in: STIX bundles (the default), and other formats.",
    no_args_is_help=True,
)


def progress_bar(json: bool) -> Progress:
    """The progress bar every long ingest shows (hidden with --json)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json,
    )


@ingest_app.command("stix")
def ingest_stix(
    files: Annotated[
        list[Path],
        typer.Argument(help="STIX 2.1 or 2.0 bundles (JSON).", exists=True, dir_okay=False),
    ],
    as_: AsOpt,
    tlp: Annotated[
        str | None,
        typer.Option(
            help="TLP for objects without a TLP marking: clear, green, amber, amber+strict, red."
        ),
    ] = None,
    recipients: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated organisations (or group:NAME) that may also see AMBER objects."
        ),
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial", help="Store the valid objects of a bundle that has invalid ones."
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Store STIX 2.1 or 2.0 bundles, each whole or not at all (unless --partial).

    `accord ingest FILE...` means `accord ingest stix FILE...`."""
    level = parse_tlp(tlp)
    with open_store() as store:
        user = acting_user(store, as_)
        if not user.role.may_ingest:
            fail(f"{user.email} is {user.role.with_article}: only analysts and admins may ingest")
        options = IngestOptions(
            tlp=level,
            recipients=recipients_from_names(store, (recipients or "").split(",")),
            partial=partial,
        )
        ingester = Ingester(store, user, node_settings(store).default_tlp)
        reports: list[IngestReport] = []
        with progress_bar(json) as bar:
            for path in files:
                task = bar.add_task(shown(path.name), total=None)

                def advance(count: int, task: TaskID = task) -> None:
                    bar.advance(task, count)

                report = ingester.ingest_file(path, options, advance)
                bar.update(task, total=len(report.objects), completed=len(report.objects))
                reports.append(report)
        audit(store, user, "write", None, via="accord ingest stix", **ingest_totals(reports))
    _print_ingest(reports, json)
    if any(not report.ok for report in reports):
        raise typer.Exit(1)


def ingest_totals(reports: list[IngestReport]) -> dict[str, object]:
    """What an ingest command's audit entry says: the sources and how many objects were
    stored, already there and rejected (as the API's entry for a bundle)."""
    return {
        "files": [report.source for report in reports],
        "stored": sum(report.count("stored") for report in reports),
        "duplicates": sum(report.count("duplicate") for report in reports),
        "rejected": sum(report.count("rejected") for report in reports),
    }


def _print_ingest(reports: list[IngestReport], json: bool) -> None:
    if json:
        print_json([report.summary() for report in reports])
        return
    table = Table("file", "stored", "duplicates", "rejected", "not stored")
    for report in reports:
        table.add_row(
            shown(report.source),
            str(report.count("stored")),
            str(report.count("duplicate")),
            str(report.count("rejected")),
            str(report.count("not stored")),
        )
    console.print(table)
    for report in reports:
        if report.error:
            console.print(f"[red]{shown(report.error)}[/]", highlight=False, soft_wrap=True)
        for obj in report.objects:
            if obj.status == "rejected":
                console.print(
                    f"[red]rejected[/] {shown(report.source)}: {shown(obj.describe())}",
                    highlight=False,
                    soft_wrap=True,
                )
        if report.count("rejected") and report.count("not stored"):
            console.print(
                f"{shown(report.source)}: nothing stored; use --partial to store the valid "
                "objects.",
                soft_wrap=True,
            )
