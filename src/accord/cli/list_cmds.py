"""``accord allowlist add|remove|list`` and ``accord ingest list``: an organisation's own
allowlist, and IOC lists (plain, LOKI, maltrail, CSV) in, flagged by the MISP warninglists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TaskID
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
from accord.cli.ingest import ingest_app, progress_bar
from accord.ingest.ioc_list_formats import KIND_CHOICES, ColumnMap
from accord.ingest.ioc_lists import ListIngester, ListOptions, ListReport
from accord.ingest.stix import IngestOptions, recipients_from_names
from accord.intel.warninglists import WarningLists
from accord.model.observables import Observable, ObservableError
from accord.model.roles import Role
from accord.store.allowlists import AllowlistEntry
from accord.store.node import Store
from accord.store.organisations import User

allowlist_app = typer.Typer(
    help="Your organisation's allowlist: values, networks and domain suffixes known benign.",
    no_args_is_help=True,
)

OrgOpt = Annotated[
    str | None,
    typer.Option("--org", help="Organisation (admins only; default: your own).", metavar="NAME"),
]


def _allowlist_org(store: Store, user: User, org: str | None) -> str:
    """The organisation whose allowlist `user` may change: org-admins their own, admins any."""
    if user.role not in (Role.ORG_ADMIN, Role.ADMIN):
        fail(
            f"{user.email} is {user.role.with_article}: only org-admins and admins keep an "
            "organisation's allowlist"
        )
    if org is None:
        return user.org_id
    target = store.directory.org(org).id
    if target != user.org_id and user.role is not Role.ADMIN:
        fail(f"{user.email} may keep only their own organisation's allowlist")
    return target


def _entry_json(entry: AllowlistEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "entry": entry.display,
        "kind": entry.kind,
        "comment": entry.comment,
        "added_by": entry.added_by,
        "added": entry.added,
    }


@allowlist_app.command("add")
def allowlist_add(
    value: Annotated[str, typer.Argument(help="A value, a CIDR, or a suffix: *.example.com")],
    as_: AsOpt,
    comment: Annotated[str | None, typer.Option(help="Why it is benign.")] = None,
    org: OrgOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add a value, a network or a domain suffix to the organisation's allowlist."""
    with open_store() as store:
        user = acting_user(store, as_)
        org_id = _allowlist_org(store, user, org)
        try:
            entry = store.allowlists.add(org_id, value, comment=comment, added_by=user.email)
        except ObservableError as exc:
            fail(str(exc))
        audit(
            store,
            user,
            "admin",
            org_id,
            via="accord allowlist add",
            change="allowlist add",
            entry=entry.display,
            kind=entry.kind,
        )
    if json:
        print_json(_entry_json(entry))
    else:
        console.print(
            f"Allowlisted {shown(entry.kind)} [bold]{shown(entry.display)}[/].", highlight=False
        )


@allowlist_app.command("remove")
def allowlist_remove(
    entry: Annotated[str, typer.Argument(help="The entry as added (any spelling), or its id.")],
    as_: AsOpt,
    org: OrgOpt = None,
    json: JsonOpt = False,
) -> None:
    """Remove an entry from the organisation's allowlist."""
    with open_store() as store:
        user = acting_user(store, as_)
        org_id = _allowlist_org(store, user, org)
        removed = store.allowlists.remove(org_id, entry)
        audit(
            store,
            user,
            "admin",
            org_id,
            via="accord allowlist remove",
            change="allowlist remove",
            entry=removed.display,
            kind=removed.kind,
        )
    if json:
        print_json(_entry_json(removed))
    else:
        console.print(
            f"Removed [bold]{shown(removed.display)}[/] from the allowlist.", highlight=False
        )


@allowlist_app.command("list")
def allowlist_list(as_: AsOpt, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """List the organisation's allowlist."""
    with open_store() as store:
        user = acting_user(store, as_)
        entries = store.allowlists.entries(_allowlist_org(store, user, org))
    if json:
        print_json([_entry_json(entry) for entry in entries])
        return
    table = Table("entry", "kind", "comment", "added by", "added")
    for entry in entries:
        table.add_row(
            shown(entry.display),
            shown(entry.kind),
            shown(entry.comment),
            shown(entry.added_by),
            shown(entry.added),
        )
    console.print(table)


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
    lists = WarningLists.load()

    def flag(observable: Observable) -> list[str]:
        return [hit.list_name for hit in lists.check(observable)]

    with open_store() as store:
        user = acting_user(store, as_)
        if not user.role.may_ingest:
            fail(f"{user.email} is {user.role.with_article}: only analysts and admins may ingest")
        ingest = IngestOptions(
            tlp=level,
            recipients=recipients_from_names(store, (recipients or "").split(",")),
            partial=True,
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
        audit(
            store,
            user,
            "write",
            None,
            via="accord ingest list",
            files=[report.source for report in reports],
            stored=sum(report.stored for report in reports),
            duplicates=sum(report.duplicates for report in reports),
            rejected=sum(report.rejected for report in reports),
        )
    _print_reports(reports, json)
    if any(report.rejected for report in reports):
        raise typer.Exit(1)


def _print_reports(reports: list[ListReport], json: bool) -> None:
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
