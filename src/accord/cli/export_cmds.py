"""``accord export``: what a user may see, out as MISP events (``misp``) or as one STIX 2.1
bundle (``stix``)."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    OutputOpt,
    acting_user,
    console,
    fail,
    open_store,
    print_json,
)
from accord.cli.display import shown
from accord.export import misp_feed
from accord.export.stix import export_bundle

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
        viewer = store.directory.viewer(acting_user(store, as_))
        chunks = export_bundle(store, viewer, type_ or ())
        if output is None:
            for chunk in chunks:
                typer.echo(chunk, nl=False)
            return
        with output.open("w") as handle:
            handle.writelines(chunks)
    if json:
        print_json({"output": str(output)})
    else:
        console.print(f"Wrote {shown(output)}.")
