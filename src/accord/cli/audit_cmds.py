"""``accord audit``: verify the audit log's hash chain, and read it as an admin may."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import AsOpt, JsonOpt, acting_user, console, fail, open_store, print_json
from accord.cli.display import shown
from accord.intel import audit_view
from accord.model.timestamps import timestamp_key

audit_app = typer.Typer(help="The audit log: verify its hash chain, read it.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(json: JsonOpt = False) -> None:
    """Check the audit log's hash chain; exit 1 if an entry was changed, deleted or inserted."""
    with open_store() as store:
        count, breaks = store.audit.verify()
    if json:
        print_json(
            {
                "entries": count,
                "ok": not breaks,
                "breaks": [{"seq": b.seq, "reason": b.reason} for b in breaks],
            }
        )
    elif breaks:
        for found in breaks:
            console.print(f"[red]entry {found.seq}[/]: {shown(found.reason)}", highlight=False)
        console.print(f"{len(breaks)} break(s) in {count} entries.")
    else:
        console.print(f"The audit log is intact: {count} entries chain correctly.")
    if breaks:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    as_: AsOpt,
    org: Annotated[
        str | None, typer.Option(help="Only this organisation (name or id; node admins).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="RFC 3339 timestamp.")] = None,
    action: Annotated[str | None, typer.Option(help="lookup, read, write or admin.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 100,
    json: JsonOpt = False,
) -> None:
    """Show audit entries, oldest first, as the node admin or org-admin ``--as`` may see them:
    who did what and when, with the objects and verdicts only they may see."""
    with open_store() as store:
        user = acting_user(store, as_)
        if not audit_view.may_read(user):
            allowed = ", ".join(role.value for role in audit_view.READERS)
            fail(f"{user.role.with_article} may not read the audit log (needs: {allowed})")
        org_id = audit_view.scope(user)
        if org:
            wanted = store.directory.org(org).id
            if org_id is not None and wanted != org_id:
                fail("an org-admin reads only their own organisation's entries")
            org_id = wanted
        try:
            since_key = timestamp_key(since) if since else None
        except ValueError as exc:
            fail(f"--since: {exc}")
        entries = audit_view.present(
            store.audit.entries(org_id, since_key, action, 0, limit),
            store.directory.viewer(user),
            store.objects,
        )
    if json:
        print_json(entries)
        return
    table = Table("seq", "at", "action", "target", "org", "detail")
    for e in entries:
        table.add_row(
            str(e["seq"]),
            shown(e["at"]),
            shown(e["action"]),
            shown(e["target"]),
            shown(e["org_id"]),
            shown(str(e["detail"])[:60]),
        )
    console.print(table)
