"""``accord ingest``: take intelligence in. ``accord ingest FILE...`` reads STIX bundles;
other formats are subcommands: ``list`` (IOC lists: plain, LOKI, maltrail, CSV, flagged by the
MISP warninglists), ``misp`` (MISP events) and ``report`` (the indicators of a report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TaskID
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
    progress_bar,
    read_input,
)
from accord.cli.display import shown
from accord.ingest.extract import DocumentError
from accord.ingest.extract.report import ReportOptions, report_bundle
from accord.ingest.ioc_list_formats import KIND_CHOICES, ColumnMap
from accord.ingest.ioc_lists import ListIngester, ListOptions, ListReport, list_totals
from accord.ingest.misp import MispImporter, MispReport
from accord.ingest.stix import (
    Ingester,
    IngestOptions,
    IngestReport,
    ingest_totals,
    recipients_from_names,
)
from accord.intel.benign import list_flagger
from accord.intel.warninglists import WarningLists

DeferOpt = Annotated[
    bool,
    typer.Option(
        "--defer-correlation",
        help="A bulk load: store without correlating; the `correlation` job of `accord worker` "
        "(or `accord serve`) correlates the backlog afterwards.",
    ),
]


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
    defer_correlation: DeferOpt = False,
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
            defer_correlation=defer_correlation,
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
            for warning in obj.warnings:
                where = f"object {obj.index}" + (f" ({obj.id})" if obj.id else "")
                console.print(
                    f"[yellow]warning[/] {shown(report.source)}: {shown(where)}: "
                    f"{shown(str(warning))}",
                    highlight=False,
                    soft_wrap=True,
                )
        if report.count("rejected") and report.count("not stored"):
            console.print(
                f"{shown(report.source)}: nothing stored; use --partial to store the valid "
                "objects.",
                soft_wrap=True,
            )


@ingest_app.command("list")
def ingest_list(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="IOC lists: plain, LOKI, maltrail or CSV.", exists=True, dir_okay=False
        ),
    ],
    as_: AsOpt,
    type_: Annotated[
        str,
        typer.Option("--type", help=f"Value type: {', '.join(KIND_CHOICES)}."),
    ] = "auto",
    columns: Annotated[
        str | None,
        typer.Option(help="CSV columns, 1-based: value=1,comment=3 (value may repeat)."),
    ] = None,
    list_format: Annotated[
        str, typer.Option("--format", help="auto, text (plain, LOKI, maltrail) or csv.")
    ] = "auto",
    source: Annotated[
        str | None, typer.Option(help="The list's name (ids and labels); default the file name.")
    ] = None,
    tlp: Annotated[
        str | None,
        typer.Option(help="TLP of the indicators: clear, green, amber, amber+strict, red."),
    ] = None,
    recipients: Annotated[
        str | None,
        typer.Option(help="Comma-separated organisations (or group:NAME) that may also see them."),
    ] = None,
    skip_warninglisted: Annotated[
        bool,
        typer.Option(
            "--skip-warninglisted", help="Leave out values on a MISP warninglist (else labelled)."
        ),
    ] = False,
    defer_correlation: DeferOpt = False,
    json: JsonOpt = False,
) -> None:
    """Store IOC lists as STIX indicators: one per value, typed by the detector, defanged
    values refanged, warninglisted values labelled (or skipped). Bad lines are reported with
    their numbers; the rest is stored. Importing a list again stores nothing new."""
    level = parse_tlp(tlp)
    try:
        column_map = ColumnMap.parse(columns) if columns else None
    except ValueError as exc:
        fail(str(exc))
    if type_ not in KIND_CHOICES:
        fail(f"unknown --type {type_!r}: use one of {', '.join(KIND_CHOICES)}")
    flag = list_flagger(WarningLists.load())
    with open_store() as store:
        user = acting_user(store, as_)
        if not user.role.may_ingest:
            fail(f"{user.email} is {user.role.with_article}: only analysts and admins may ingest")
        ingest = IngestOptions(
            tlp=level,
            recipients=recipients_from_names(store, (recipients or "").split(",")),
            partial=True,
            defer_correlation=defer_correlation,
        )
        ingester = ListIngester(store, user, node_settings(store).default_tlp, flagger=flag)
        reports: list[ListReport] = []
        with progress_bar(json) as bar:
            for path in files:
                task = bar.add_task(shown(path.name), total=None)
                options = ListOptions(
                    kind=type_,
                    columns=column_map,
                    format=list_format,
                    source=source,
                    skip_warninglisted=skip_warninglisted,
                    ingest=ingest,
                )

                def advance(count: int, task: TaskID = task) -> None:
                    bar.advance(task, count)

                reports.append(ingester.ingest_file(path, options, advance))
        audit(store, user, "write", None, via="accord ingest list", **list_totals(reports))
    _print_list_reports(reports, json)
    if any(report.rejected for report in reports):
        raise typer.Exit(1)


def _print_list_reports(reports: list[ListReport], json: bool) -> None:
    if json:
        print_json([report.summary() for report in reports])
        return
    table = Table(
        "list", "entries", "stored", "duplicates", "warninglisted", "skipped", "bad lines", "kinds"
    )
    for report in reports:
        table.add_row(
            shown(report.source),
            str(report.entries),
            str(report.stored),
            str(report.duplicates),
            str(report.warninglisted),
            str(report.skipped),
            str(report.bad_line_count),
            shown(", ".join(f"{kind} {count}" for kind, count in sorted(report.kinds.items()))),
        )
    console.print(table)
    for report in reports:
        for bad in report.bad_lines:
            console.print(
                f"[yellow]skipped[/] {shown(report.source)} {shown(bad.describe())}",
                highlight=False,
                soft_wrap=True,
            )
        if report.bad_line_count > len(report.bad_lines):
            more = report.bad_line_count - len(report.bad_lines)
            console.print(f"{shown(report.source)}: {more} more bad lines (see --json).")
        for rejection in report.rejections:
            console.print(
                f"[red]rejected[/] {shown(report.source)}: {shown(rejection)}", highlight=False
            )


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
    defer_correlation: DeferOpt = False,
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
        options = IngestOptions(tlp=level, partial=partial, defer_correlation=defer_correlation)
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
    _print_misp_reports(reports, json)
    if any(not report.ok for report in reports):
        raise typer.Exit(1)


def _print_misp_reports(reports: list[MispReport], json: bool) -> None:
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
    filename, data = read_input(file)
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
