"""``accord``: thin commands over the library. Each one turns errors into messages.

This module holds the application, the top-level commands init, search, get and demo, and the
registration of the others: one module per command group (``accord ingest ...`` in
``ingest_cmds.py``, ``accord key ...`` in ``key_cmds.py``, ...)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli import (
    allowlist_cmds,
    audit_cmds,
    backup_cmds,
    correlation_cmds,
    export_cmds,
    extract_cmds,
    feed_cmds,
    group_cmds,
    ingest_cmds,
    key_cmds,
    match_cmds,
    node_cmds,
    org_cmds,
    pattern_cmds,
    peer_cmds,
    server_cmds,
    settings_cmds,
    taxii_cmds,
    user_cmds,
    webhook_cmds,
    worker_cmds,
)
from accord.cli.context import (
    EXIT_CODES,
    AsOpt,
    JsonOpt,
    acting_user,
    audit,
    console,
    fail,
    open_store,
    print_json,
    refuse_nul,
    state,
)
from accord.cli.display import print_json_human, shown
from accord.intel.search import match_json, search_value
from accord.model.errors import StixError
from accord.model.observables import ObservableError
from accord.store import migrate

app = typer.Typer(
    help="Accord: share, look up and correlate threat intelligence, with TLP 2.0 enforced.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Every other module's commands and groups, registered here one line each, in the order
# `accord --help` lists them (this module's own commands follow the top-level ones).
app.command()(correlation_cmds.correlations)
app.command()(correlation_cmds.sight)
app.command("match", epilog=match_cmds.EXIT_CODES)(match_cmds.match_command)
app.command("extract")(extract_cmds.extract)
app.command()(server_cmds.serve)
app.command()(server_cmds.lookup)
app.command()(worker_cmds.worker)
app.command()(worker_cmds.jobs)
app.command()(backup_cmds.backup)
app.command()(backup_cmds.restore)
app.add_typer(org_cmds.org_app, name="org")
app.add_typer(user_cmds.user_app, name="user")
app.add_typer(key_cmds.key_app, name="key")
app.add_typer(group_cmds.group_app, name="group")
app.add_typer(export_cmds.export_app, name="export")
app.add_typer(ingest_cmds.ingest_app, name="ingest")
app.add_typer(allowlist_cmds.allowlist_app, name="allowlist")
app.add_typer(audit_cmds.audit_app, name="audit")
app.add_typer(feed_cmds.feed_app, name="feed")
app.add_typer(settings_cmds.settings_app, name="settings")
app.add_typer(taxii_cmds.taxii_app, name="taxii")
app.add_typer(node_cmds.node_app, name="node")
app.add_typer(peer_cmds.peer_app, name="peer")
app.add_typer(webhook_cmds.webhook_app, name="webhook")
app.add_typer(pattern_cmds.patterns_app, name="patterns")


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: $ACCORD_DATABASE_URL or sqlite:///var/accord.db).",
            metavar="URL",
        ),
    ] = None,
) -> None:
    state.db = db


@app.command()
def init(json: JsonOpt = False) -> None:
    """Create or upgrade the database and publish the TLP 2.0 definitions."""
    with open_store(require_init=False) as store:
        store.init()
        revision = migrate.current_revision(store.engine)
    if json:
        print_json({"database": state.settings.database_url, "revision": revision})
    else:
        console.print(f"Initialised {shown(state.settings.database_url)} (schema {revision}).")


# -- reading --------------------------------------------------------------------------------


@app.command()
def search(
    value: str,
    as_: AsOpt,
    kind: Annotated[
        str | None, typer.Option(help="Value type, if detection guesses wrong.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """What a user may see about a value: indicators, observables, CIDRs, parent domains."""
    refuse_nul([value])
    with open_store() as store:
        user = acting_user(store, as_)
        try:
            result = search_value(store, store.directory.viewer(user), value, kind)
        except ObservableError as exc:
            fail(str(exc))
    if json:
        print_json(result.as_json())
        return
    observable = result.observable
    assert observable is not None
    if not result.matches:
        console.print(
            f"Nothing known to {shown(user.email)} about {observable.kind} "
            f"{shown(observable.value)}.",
            highlight=False,
        )
        return
    table = Table(
        "relation",
        "via",
        "type",
        "name / pattern",
        "TLP",
        "id",
        title=f"{observable.kind} {shown(observable.value)}",
    )
    for match in result.matches:
        found = match_json(match)
        label = found.get("name") or found.get("pattern") or ""
        table.add_row(
            shown(match.relation),
            shown(match.value),
            shown(match.obj.type),
            shown(str(label)[:60]),
            match.obj.tlp.label,
            shown(match.obj.id),
        )
    console.print(table)


@app.command()
def get(
    object_id: Annotated[str, typer.Argument(metavar="ID")],
    as_: AsOpt,
    versions: Annotated[
        bool, typer.Option("--versions", help="Every version the user may see.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Show an object (its latest version) if the user may see it."""
    with open_store() as store:
        viewer = store.directory.viewer(acting_user(store, as_))
        found = (
            store.objects.versions(viewer, object_id)
            if versions
            else [o for o in [store.objects.get(viewer, object_id)] if o]
        )
    if not found:
        fail(f"no object {object_id} that {as_} may see", code=1)
    payload = [o.json() for o in found] if versions else found[0].json()
    if json:
        print_json(payload)
    else:
        print_json_human(console, payload)


@app.command()
def demo(
    json: JsonOpt = False,
    attack: Annotated[
        bool, typer.Option(help="Load MITRE ATT&CK too (about half a minute; --no-attack: not).")
    ] = True,
) -> None:
    """Build a demo node (organisations, users, intelligence at every TLP, ATT&CK) and show
    what each organisation gets when it looks up the same value, and why."""
    from accord.cli.demo import run_demo

    with open_store(require_init=False) as store:
        run_demo(store, json=json, attack=attack)
        audit(store, None, "write", None, via="accord demo")


def main() -> None:
    try:
        app()
    except StixError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
