"""``accord key``: a user's API keys (list, add, revoke)."""

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
from accord.model.roles import may_act_on
from accord.store.node import Store
from accord.store.organisations import NotFound, User

key_app = typer.Typer(help="API keys: list, add and revoke a user's keys.", no_args_is_help=True)


def _key_holder(store: Store, actor: User | None, email: str) -> User:
    """The user ``email`` whose keys ``actor`` may handle (see `accord.model.roles`); an
    unknown user and one the actor may not act on are refused alike."""
    try:
        target = store.directory.user(email)
    except NotFound:
        target = None
    if target is None or (actor is not None and not may_act_on(actor, target)):
        fail(f"no user {email!r} whose keys you may manage")
    return target


@key_app.command("list")
def key_list(email: str, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """List a user's API keys (ids and dates; the secrets are never kept)."""
    with open_store() as store:
        target = _key_holder(store, operator(store, as_), email)
        keys = store.directory.keys(target.id)
    rows = [{"id": k, "created": c, "revoked": r} for k, c, r in keys]
    if json:
        print_json(rows)
        return
    table = Table("id", "created", "revoked")
    for row in rows:
        table.add_row(str(row["id"]), str(row["created"]), "yes" if row["revoked"] else "no")
    console.print(table)


@key_app.command("add")
def key_add(email: str, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """Make a new API key for a user; prints it once (it is stored hashed)."""
    with open_store() as store:
        actor = operator(store, as_)
        target = _key_holder(store, actor, email)
        key = store.directory.new_key(target.email)
        key_id = key.split("_")[1]
        audit(store, actor, "admin", target.id, via="accord key add", change="new key", key=key_id)
    if json:
        print_json({"id": key_id, "email": target.email, "api_key": key})
    else:
        console.print(
            f"API key for {target.email} (shown once, keep it safe): [bold]{key}[/]",
            highlight=False,
        )


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id (acc_ID_...).")],
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Revoke an API key by its id; it stops working (a server notices within seconds)."""
    with open_store() as store:
        actor = operator(store, as_)
        owner = store.directory.key_owner(key_id)
        if owner is None or (actor is not None and not may_act_on(actor, owner)):
            fail(f"no API key {key_id!r} that you may revoke")
        store.directory.revoke_key(key_id)
        audit(
            store,
            actor,
            "admin",
            owner.id,
            via="accord key revoke",
            change="revoke key",
            key=key_id,
        )
    if json:
        print_json({"id": key_id, "email": owner.email, "revoked": True})
    else:
        console.print(f"Revoked key {key_id} of {owner.email}.", highlight=False)
