"""``accord export``: what a user may see, out as MISP events (``misp``), as one STIX 2.1
bundle (``stix``), or in the formats sensors load (``suricata``, ``zeek-intel``, ``rpz``,
``hosts``, ``csv``: docs/exports.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated

import orjson
import typer

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    OutputOpt,
    acting_user,
    console,
    fail,
    node_settings,
    open_store,
    print_json,
)
from accord.cli.context import errors as error_console
from accord.cli.display import shown
from accord.export import misp_feed
from accord.export.indicator_items import (
    BadExportQuery,
    ExportQuery,
    IndicatorExport,
    Tally,
    parse_since,
    parse_types,
)
from accord.export.sensors import formats, suricata
from accord.export.sensors.text import Heading
from accord.export.stix import export_bundle
from accord.intel.export_judge import ExportJudge
from accord.intel.lookup.service import LookupService
from accord.intel.read_audit import audit_read_ids
from accord.model.tlp import Tlp
from accord.store.records import StoredObject

export_app = typer.Typer(help="Export what a user may see.", no_args_is_help=True)


@export_app.command("misp")
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
        user = acting_user(store, as_)
        viewer = store.directory.viewer(user)
        if report is not None:
            event_uuid = report.removeprefix("report--")
            found = misp_feed.find_event(store, viewer, event_uuid)
            if found is None:
                fail(f"no report {report} that {as_} may see", code=1)
            made = [found]
            document: object = found.event
        else:
            made = [
                misp_feed.feed_event(store, viewer, stored)
                for stored in misp_feed.reports(store, viewer)
            ]
            document = {"response": [event.event for event in made]}
        # Reads of AMBER and above are recorded, as the API records them.
        sensitive = {
            source.id: source.tlp
            for event in made
            for source in event.sources
            if source.tlp >= Tlp.AMBER
        }
        audit_read_ids(store, viewer, user.id, sensitive, "accord export misp")
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    if output is None:
        typer.echo(data.decode())
        return
    output.write_bytes(data + b"\n")
    if json:
        print_json({"output": str(output)})
    else:
        console.print(f"Wrote {shown(output)}.")


@export_app.command("stix")
def export_stix(
    as_: AsOpt,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="Only this STIX type (repeatable).")
    ] = None,
    output: OutputOpt = None,
    json: JsonOpt = False,
) -> None:
    """Export, as one STIX 2.1 bundle, the latest versions the user may see."""
    with open_store() as store:
        user = acting_user(store, as_)
        viewer = store.directory.viewer(user)
        sensitive: dict[str, Tlp] = {}

        def read(stored: StoredObject) -> None:
            if stored.tlp >= Tlp.AMBER:
                sensitive[stored.id] = stored.tlp

        chunks = export_bundle(store, viewer, type_ or (), read)
        if output is None:
            for chunk in chunks:
                typer.echo(chunk, nl=False)
        else:
            with output.open("w") as handle:
                handle.writelines(chunks)
        # Reads of AMBER and above are recorded, as the API records them.
        audit_read_ids(store, viewer, user.id, sensitive, "accord export stix")
    if output is None:
        return
    if json:
        print_json({"output": str(output)})
    else:
        console.print(f"Wrote {shown(output)}.")


# -- the formats sensors load ------------------------------------------------------------------

TypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--type",
        help="Only these kinds of value, comma-separated or repeated: ipv4, ipv6 (each with "
        "its networks), ipv4-net, ipv6-net, ip, domain, url, email, md5, sha1, sha256, hash...",
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="Only indicators modified or received since (RFC 3339 or a day)."),
]
MinScoreOpt = Annotated[
    int | None,
    typer.Option("--min-score", help="Leave out indicators scoring below N (0-100)."),
]
BenignOpt = Annotated[
    bool,
    typer.Option(
        "--include-benign",
        help="Keep values on a benign warninglist or your allowlist (flagged in CSV).",
    ),
]


def _sensor_export(
    format: str,
    as_: str,
    types: list[str] | None,
    since: str | None,
    min_score: int | None,
    include_benign: bool,
    output: Path | None,
    json: bool,
    link_base: str | None = None,
) -> None:
    try:
        query = ExportQuery(parse_types(types or ()), parse_since(since), min_score, include_benign)
    except BadExportQuery as exc:
        fail(f"--{exc.parameter.replace('_', '-')}: {exc.detail}")
    if link_base is not None and not link_base.startswith(("https://", "http://")):
        fail(f"--link-base: {link_base!r} is not an http(s) address")
    if link_base is not None and any(ord(c) <= 32 or ord(c) == 127 for c in link_base):
        fail("--link-base: an address holds no spaces or control characters")
    now = datetime.now(UTC)
    with open_store() as store:
        user = acting_user(store, as_)
        viewer = store.directory.viewer(user)
        lists = LookupService.load(store, node_settings(store)).lists
        export = IndicatorExport(
            store,
            viewer,
            formats.for_format(format, query),
            ExportJudge.for_viewer(lists, viewer, now),
            now,
        )
        heading = Heading(
            format,
            user.email,
            store.indicator_values.newest_visible_seq(viewer),
        )
        target = output
        if format == "suricata" and output is not None and output.is_dir():
            target = output / formats.RULES_FILE
        named: set[str] = set()
        with ExitStack() as files:
            handle: IO[str] = (
                sys.stdout if target is None else files.enter_context(target.open("w"))
            )
            if format == "suricata":
                _write_suricata(export, heading, handle, target, files, named)
            else:
                for chunk in formats.render(
                    format, export.items(), export.tally, heading, link_base
                ):
                    handle.write(chunk)
        audit_read_ids(store, viewer, user.id, export.tally.sensitive, f"accord export {format}")
    _report(export.tally, target, named, json)


def _write_suricata(
    export: IndicatorExport,
    heading: Heading,
    handle: IO[str],
    target: Path | None,
    files: ExitStack,
    named: set[str],
) -> None:
    """The rules into ``handle``; the list files beside ``target`` (none on standard output,
    where ``named`` then says which the rules name)."""

    def lists(name: str) -> Callable[[str], None] | None:
        named.add(name)
        if target is None:
            return None
        stream = files.enter_context((target.parent / name).open("w"))

        def write(line: str) -> None:
            stream.write(line + "\n")

        return write

    def rule(line: str) -> None:
        handle.write(line + "\n")

    writer = suricata.SuricataWriter(rule, lists, export.tally)
    writer.begin(heading)
    for item in export.items():
        writer.add(item)
    writer.end()


def _report(tally: Tally, target: Path | None, named: set[str], json: bool) -> None:
    if json:
        print_json(
            {
                "output": None if target is None else str(target),
                "exported": tally.exported,
                "left_out": dict(tally.left_out),
                "examples": tally.examples,
                "list_files": sorted(named),
            }
        )
        return
    for line in tally.summary():
        error_console.print(shown(line), highlight=False)
    if target is None and named:
        error_console.print(
            shown(
                f"the rules name list files ({', '.join(sorted(named))}): export with "
                "--output DIR to write them beside the rules"
            ),
            highlight=False,
        )
    elif target is not None:
        written = ", ".join(sorted(named))
        console.print(f"Wrote {shown(target)}" + (f" and {shown(written)}." if named else "."))


def _sensor_command(format: str, summary: str) -> None:
    def command(
        as_: AsOpt,
        type_: TypeOpt = None,
        since: SinceOpt = None,
        min_score: MinScoreOpt = None,
        include_benign: BenignOpt = False,
        output: OutputOpt = None,
        json: JsonOpt = False,
    ) -> None:
        _sensor_export(format, as_, type_, since, min_score, include_benign, output, json)

    command.__doc__ = summary
    export_app.command(format)(command)


_sensor_command(
    "suricata",
    "Suricata rules for the indicators the user may see (with --output DIR, the dataset and "
    "hash-list files beside them).",
)
_sensor_command("rpz", "A DNS response policy zone of the names and addresses the user may see.")
_sensor_command("hosts", "A hosts file (0.0.0.0 name) of the domains the user may see.")
_sensor_command("csv", "The indicator values the user may see, as CSV.")


@export_app.command("zeek-intel")
def export_zeek_intel(
    as_: AsOpt,
    type_: TypeOpt = None,
    since: SinceOpt = None,
    min_score: MinScoreOpt = None,
    include_benign: BenignOpt = False,
    output: OutputOpt = None,
    json: JsonOpt = False,
    link_base: Annotated[
        str | None,
        typer.Option(
            "--link-base",
            help="The node's address (https://accord.example): meta.url then links each indicator.",
        ),
    ] = None,
) -> None:
    """A Zeek Intel Framework file of the indicator values the user may see."""
    _sensor_export(
        "zeek-intel", as_, type_, since, min_score, include_benign, output, json, link_base
    )
