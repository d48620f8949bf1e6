"""``accord org``: the organisations of this node (add, list, require a second factor)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    JsonOpt,
    OperatorOpt,
    audit,
    console,
    fail,
    open_store,
    operator,
    print_json,
)
from accord.cli.display import shown
from accord.model.roles import Role, may_set_org_policy

org_app = typer.Typer(help="Organisations of this node.", no_args_is_help=True)


@org_app.command("add")
def org_add(
    name: str,
    sector: Annotated[str | None, typer.Option(help="e.g. government, water, energy")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166 two-letter code")] = None,
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add an organisation (it gets a STIX identity id). Node admins only."""
    with open_store() as store:
        user = operator(store, as_, Role.ADMIN)
        org = store.directory.add_org(name, sector, country)
        audit(
            store,
            user,
            "admin",
            org.id,
            via="accord org add",
            change="add organisation",
            name=org.name,
        )
    if json:
        print_json({"id": org.id, "name": org.name, "sector": sector, "country": country})
    else:
        console.print(f"Added organisation [bold]{shown(org.name)}[/] ({shown(org.id)}).")


@org_app.command("list")
def org_list(json: JsonOpt = False) -> None:
    """List organisations, and whether each requires a second factor to sign in to the
    portal."""
    with open_store() as store:
        orgs = store.directory.orgs()
        strict = store.credentials.orgs_requiring_totp()
    if json:
        print_json(
            [
                {
                    "id": o.id,
                    "name": o.name,
                    "sector": o.sector,
                    "country": o.country,
                    "require_totp": o.id in strict,
                }
                for o in orgs
            ]
        )
        return
    table = Table("name", "sector", "country", "TOTP required", "id")
    for o in orgs:
        table.add_row(
            shown(o.name),
            shown(o.sector),
            shown(o.country),
            "yes" if o.id in strict else "no",
            shown(o.id),
        )
    console.print(table)


@org_app.command("require-totp")
def org_require_totp(
    name: Annotated[str, typer.Argument(metavar="ORG", help="Organisation name or id.")],
    required: Annotated[
        bool,
        typer.Option(
            "--on/--off",
            help="--on: its users need a TOTP second factor to sign in to the portal; --off: "
            "it is up to each user.",
        ),
    ],
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Require a TOTP second factor of an organisation's users in the portal (or stop). When
    it is turned on, the portal sessions of its users that gave no second factor end: they
    sign in again and set one up. With --as: node admins, or an org-admin for their own."""
    with open_store() as store:
        actor = operator(store, as_)
        org = store.directory.org(name)
        if actor is not None and not may_set_org_policy(actor, org.id):
            fail(
                f"{actor.email} is {actor.role.with_article}: may not change what "
                f"{org.name} requires to sign in (node admins, or an org-admin of "
                "the organisation)"
            )
        store.credentials.require_totp(org.id, required)
        ended = store.web_sessions.revoke_without_second_factor(org.id) if required else 0
        audit(
            store,
            actor,
            "admin",
            org.id,
            via="accord org require-totp",
            change="require second factor" if required else "second factor optional",
            sessions_ended=ended,
        )
    if json:
        print_json(
            {"id": org.id, "name": org.name, "require_totp": required, "sessions_ended": ended}
        )
    elif required:
        console.print(
            f"{shown(org.name)} now requires a second factor; ended {ended} portal "
            f"session{'' if ended == 1 else 's'} without one."
        )
    else:
        console.print(f"{shown(org.name)} no longer requires a second factor.")
