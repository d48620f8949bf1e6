"""``accord org``: the organisations of this node (add, list)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    JsonOpt,
    OperatorOpt,
    audit,
    console,
    open_store,
    operator,
    print_json,
)
from accord.cli.display import shown
from accord.model.roles import Role

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
    """List organisations."""
    with open_store() as store:
        orgs = store.directory.orgs()
    if json:
        print_json(
            [{"id": o.id, "name": o.name, "sector": o.sector, "country": o.country} for o in orgs]
        )
        return
    table = Table("name", "sector", "country", "id")
    for o in orgs:
        table.add_row(shown(o.name), shown(o.sector), shown(o.country), shown(o.id))
    console.print(table)
