"""``accord allowlist add|remove|list``: an organisation's own allowlist."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    acting_user,
    audit,
    console,
    fail,
    open_store,
    print_json,
)
from accord.cli.display import shown
from accord.model.observables import ObservableError
from accord.model.roles import Role, may_keep_allowlist
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
    """The organisation whose allowlist `user` may change (`may_keep_allowlist`: org-admins
    their own, admins any)."""
    if user.role not in (Role.ORG_ADMIN, Role.ADMIN):
        fail(
            f"{user.email} is {user.role.with_article}: only org-admins and admins keep an "
            "organisation's allowlist"
        )
    target = user.org_id if org is None else store.directory.org(org).id
    if not may_keep_allowlist(user, target):
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
