"""``accord user``: the users of this node (add, list); ``accord key`` handles their keys."""

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
from accord.model.roles import Role, may_manage

user_app = typer.Typer(help="Users and their API keys.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    email: str,
    org: Annotated[str, typer.Option(help="Organisation name.")],
    role: Annotated[
        str, typer.Option(help="admin, org-admin, analyst, reader or sensor.")
    ] = "analyst",
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add a user; prints their API key once (it is stored hashed). With --as, the rule of
    the API applies: node admins add anyone, org-admins the analysts, readers and sensors of
    their own organisation."""
    with open_store() as store:
        actor = operator(store, as_)
        wanted = Role.parse(role)
        if actor is not None and not may_manage(actor, wanted, store.directory.org(org).id):
            fail(
                f"{actor.email} is {actor.role.with_article}: may not add a user with role "
                f"{wanted.value} to {org} (node admins add anyone, org-admins the analysts, "
                "readers and sensors of their own organisation)"
            )
        user, key = store.directory.add_user(email, org, wanted)
        audit(
            store,
            actor,
            "admin",
            user.id,
            via="accord user add",
            change="add user",
            email=user.email,
            role=user.role.value,
        )
    if json:
        print_json(
            {
                "id": user.id,
                "email": user.email,
                "org_id": user.org_id,
                "role": user.role.value,
                "api_key": key,
            }
        )
    else:
        console.print(f"Added {shown(user.email)} ({user.role.value}).")
        console.print(f"API key (shown once, keep it safe): [bold]{key}[/]", highlight=False)


@user_app.command("list")
def user_list(as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """List users (with --as an org-admin: those of their organisation)."""
    with open_store() as store:
        actor = operator(store, as_, Role.ADMIN, Role.ORG_ADMIN)
        org = None if actor is None or actor.role is Role.ADMIN else actor.org_id
        users = store.directory.users(org)
    if json:
        print_json(
            [
                {"id": u.id, "email": u.email, "org_id": u.org_id, "role": u.role.value}
                for u in users
            ]
        )
        return
    table = Table("email", "role", "organisation")
    for u in users:
        table.add_row(shown(u.email), u.role.value, shown(u.org_id))
    console.print(table)
