"""``accord taxii``: the TAXII 2.1 collections this node serves besides "everything you may
see"."""

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
    parse_tlp,
    print_json,
)
from accord.cli.display import shown
from accord.model.roles import Role
from accord.taxii import collections

taxii_app = typer.Typer(help="The TAXII 2.1 collections this node serves.", no_args_is_help=True)


@taxii_app.command("collection-add")
def collection_add(
    title: str,
    tlp: Annotated[str | None, typer.Option(help="The objects of this TLP level.")] = None,
    group: Annotated[str | None, typer.Option(help="The objects shared with this group.")] = None,
    feed: Annotated[str | None, typer.Option(help="The objects this feed brought.")] = None,
    description: Annotated[str | None, typer.Option(help="Shown to TAXII clients.")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse TAXII POSTs.")] = False,
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Serve a collection over TAXII: by TLP level, by sharing group or by feed. Node
    admins only."""
    with open_store() as store:
        user = operator(store, as_, Role.ADMIN)
        try:
            made = collections.define(
                store, title, parse_tlp(tlp), group, feed, description, not read_only
            )
        except ValueError as exc:
            fail(str(exc))
        audit(
            store,
            user,
            "admin",
            made.id,
            via="accord taxii collection-add",
            change="add collection",
            title=made.title,
            writable=made.writable,
        )
    if json:
        print_json({"id": made.id, "title": made.title, "writable": made.writable})
    else:
        console.print(f"Added collection [bold]{shown(made.title)}[/] ({shown(made.id)}).")


@taxii_app.command("collections")
def collection_list(json: JsonOpt = False) -> None:
    """List the collections this node serves (each caller sees only what it may)."""
    with open_store() as store:
        found = collections.all_collections(store)
    rows = [
        {
            "id": c.id,
            "title": c.title,
            "tlp": c.scope.tlp.slug if c.scope.tlp is not None else None,
            "group_id": c.scope.group_id,
            "feed_id": c.scope.feed_id,
            "writable": c.writable,
        }
        for c in found
    ]
    if json:
        print_json(rows)
        return
    table = Table("id", "title", "holds", "writable")
    for row in rows:
        holds = (
            f"TLP {row['tlp']}"
            if row["tlp"]
            else f"group {row['group_id']}"
            if row["group_id"]
            else f"feed {row['feed_id']}"
            if row["feed_id"]
            else "everything you may see"
        )
        table.add_row(
            shown(row["id"]), shown(row["title"]), shown(holds), "yes" if row["writable"] else "no"
        )
    console.print(table)
