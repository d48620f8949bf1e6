"""``accord node``: this node's identity for federation (init, show, card)."""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli.context import JsonOpt, audit, console, open_store, print_json
from accord.cli.display import shown

node_app = typer.Typer(
    help="This node's identity: who it is to its peers (docs/federation.md).",
    no_args_is_help=True,
)


@node_app.command("init")
def node_init(
    name: Annotated[str, typer.Option(help="The node's name, e.g. 'CERT-Nordland national node'.")],
    operator: Annotated[
        str, typer.Option(help="The organisation (name or id) this node hosts that runs it.")
    ],
    identity_class: Annotated[
        str, typer.Option("--class", help="STIX identity class: system or organization.")
    ] = "system",
    json: JsonOpt = False,
) -> None:
    """Give the node its STIX identity (or rename it: the id never changes)."""
    with open_store() as store:
        org = store.directory.org(operator)
        identity = store.identity.set(name, org.id, identity_class)
        audit(store, None, "admin", identity.id, via="accord node init", name=name)
    if json:
        print_json(identity.stix())
        return
    console.print(f"This node is [bold]{shown(identity.name)}[/] ({shown(identity.id)}).")


@node_app.command("show")
def node_show(json: JsonOpt = False) -> None:
    """Show the node's identity, operator and the organisations it hosts."""
    with open_store() as store:
        card = store.identity.card()
    if json:
        print_json(card)
        return
    identity = card["identity"]
    console.print(f"[bold]{shown(identity['name'])}[/] {shown(identity['id'])}")
    operator = card["operator"] or {}
    console.print(f"operated by {shown(operator.get('name', '?'))} ({shown(operator.get('id'))})")
    for org in card["hosted_organizations"]:
        console.print(f"  hosts {shown(org['name'])} ({shown(org['id'])})")


@node_app.command("card")
def node_card() -> None:
    """Print the node's card (JSON) for a peer's operator: `accord peer add NAME --card FILE`
    on their node. The same card is served to peers at /api/v1/node."""
    with open_store() as store:
        print_json(store.identity.card())
