"""``accord group``: sharing groups, named sets of organisations (add)."""

from __future__ import annotations

from typing import Annotated

import typer

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

group_app = typer.Typer(help="Sharing groups: named sets of organisations.", no_args_is_help=True)


@group_app.command("add")
def group_add(
    name: str,
    orgs: Annotated[str, typer.Option(help="Comma-separated organisation names.")],
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add a sharing group of organisations. Node admins only."""
    with open_store() as store:
        user = operator(store, as_, Role.ADMIN)
        group = store.directory.add_group(name, [o.strip() for o in orgs.split(",") if o.strip()])
        audit(
            store,
            user,
            "admin",
            group.id,
            via="accord group add",
            change="add sharing group",
            name=group.name,
            organisations=list(group.org_ids),
        )
    if json:
        print_json({"id": group.id, "name": group.name, "organisations": list(group.org_ids)})
    else:
        console.print(
            f"Added sharing group [bold]{shown(group.name)}[/] with {len(group.org_ids)} "
            "organisations."
        )
