"""``accord user``: the users of this node (add, list), their portal passwords, second
factors and sessions (docs/accounts.md); ``accord key`` handles their API keys."""

from __future__ import annotations

import sys
from collections.abc import Callable
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
from accord.model.roles import Role, may_act_on, may_manage, may_reset_second_factor
from accord.store.credentials import WeakPassword, check_new_password
from accord.store.node import Store
from accord.store.organisations import NotFound, User

user_app = typer.Typer(
    help="Users: add and list them, their portal passwords, second factors and sessions.",
    no_args_is_help=True,
)

PasswordStdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read a portal password from standard input (one line; asked twice, unseen, "
        "at a terminal).",
    ),
]


@user_app.command("add")
def user_add(
    email: str,
    org: Annotated[str, typer.Option(help="Organisation name.")],
    role: Annotated[
        str, typer.Option(help="admin, org-admin, analyst, reader or sensor.")
    ] = "analyst",
    password_stdin: PasswordStdinOpt = False,
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Add a user; prints their API key once (it is stored hashed). With --password-stdin,
    the user gets a portal password too. With --as, the rule of the API applies: node admins
    add anyone, org-admins the analysts, readers and sensors of their own organisation."""
    with open_store() as store:
        actor = operator(store, as_)
        wanted = Role.parse(role)
        if actor is not None and not may_manage(actor, wanted, store.directory.org(org).id):
            fail(
                f"{actor.email} is {actor.role.with_article}: may not add a user with role "
                f"{wanted.value} to {org} (node admins add anyone, org-admins the analysts, "
                "readers and sensors of their own organisation)"
            )
        password = None
        if password_stdin:
            # Checked before the user is made: a refused password leaves nothing behind.
            password = _new_password()
            _check(password, email.strip().lower())
        user, key = store.directory.add_user(email, org, wanted)
        if password is not None:
            store.credentials.set_password(user.id, password)
        audit(
            store,
            actor,
            "admin",
            user.id,
            via="accord user add",
            change="add user",
            email=user.email,
            role=user.role.value,
            password=password is not None,
        )
    if json:
        print_json(
            {
                "id": user.id,
                "email": user.email,
                "org_id": user.org_id,
                "role": user.role.value,
                "api_key": key,
                "has_password": password is not None,
            }
        )
    else:
        console.print(f"Added {shown(user.email)} ({user.role.value}).")
        console.print(f"API key (shown once, keep it safe): [bold]{key}[/]", highlight=False)
        if password is not None:
            console.print("Portal password set.")


@user_app.command("list")
def user_list(as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """List users (with --as an org-admin: those of their organisation), and whether each
    has a portal password and a second factor (never the secrets themselves)."""
    with open_store() as store:
        actor = operator(store, as_, Role.ADMIN, Role.ORG_ADMIN)
        org = None if actor is None or actor.role is Role.ADMIN else actor.org_id
        users = store.directory.users(org)
        states = store.credentials.states(org)
    rows = [(u, states[u.id]) for u in users if u.id in states]
    if json:
        print_json(
            [
                {
                    "id": u.id,
                    "email": u.email,
                    "org_id": u.org_id,
                    "role": u.role.value,
                    "has_password": state.has_password,
                    "totp_enabled": state.totp_enabled,
                }
                for u, state in rows
            ]
        )
        return
    table = Table("email", "role", "organisation", "password", "TOTP")
    for u, state in rows:
        table.add_row(
            shown(u.email),
            u.role.value,
            shown(u.org_id),
            "yes" if state.has_password else "no",
            "yes" if state.totp_enabled else "no",
        )
    console.print(table)


@user_app.command("passwd")
def user_passwd(email: str, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """Set a user's portal password, read from standard input (one line; at a terminal it
    is asked twice and not shown), and end every portal session of the user. An API key is
    not a password: keys stay as they are."""
    with open_store() as store:
        actor = operator(store, as_)
        target = _account(store, actor, email, may_act_on)
        password = _new_password()
        _check(password, target.email)
        store.credentials.set_password(target.id, password)
        ended = store.web_sessions.revoke_user(target.id)
        audit(
            store,
            actor,
            "admin",
            target.id,
            via="accord user passwd",
            change="set password",
            sessions_ended=ended,
        )
    if json:
        print_json({"email": target.email, "password_set": True, "sessions_ended": ended})
    else:
        console.print(
            f"Set the portal password of {shown(target.email)}; "
            f"ended {_sessions(ended)} (a new password signs out everywhere)."
        )


@user_app.command("totp-reset")
def user_totp_reset(email: str, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """Forget a user's TOTP second factor (a lost phone) and end their portal sessions; they
    set up a new one at their next sign-in where their organisation requires it. With --as:
    whoever manages the account (never its own user)."""
    with open_store() as store:
        actor = operator(store, as_)
        if actor is not None and actor.email == email.strip().lower():
            fail(
                f"{actor.email} may not reset their own second factor: whoever manages the "
                "account does (an org-admin of the organisation, or the node admin)"
            )
        target = _account(store, actor, email, may_reset_second_factor)
        account = store.credentials.account(target.id)
        had = account is not None and account.totp_enabled
        store.credentials.reset_totp(target.id)
        ended = store.web_sessions.revoke_user(target.id)
        audit(
            store,
            actor,
            "admin",
            target.id,
            via="accord user totp-reset",
            change="reset second factor",
            had_totp=had,
            sessions_ended=ended,
        )
    if json:
        print_json({"email": target.email, "had_totp": had, "sessions_ended": ended})
    elif had:
        console.print(
            f"Forgot the second factor of {shown(target.email)}; ended {_sessions(ended)}."
        )
    else:
        console.print(f"{shown(target.email)} had no second factor; ended {_sessions(ended)}.")


@user_app.command("sessions")
def user_sessions(email: str, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """List a user's portal sessions (newest first; the tokens themselves are never kept)."""
    with open_store() as store:
        target = _account(store, operator(store, as_), email, may_act_on)
        found = store.web_sessions.of_user(target.id)
    rows = [
        {"id": i, "created": c, "last_seen": s, "address": a, "user_agent": u}
        for i, c, s, a, u in found
    ]
    if json:
        print_json(rows)
        return
    if not rows:
        console.print(f"{shown(target.email)} has no portal session.")
        return
    table = Table("id", "created", "last seen", "address", "browser")
    for row in rows:
        table.add_row(*(shown(value) for value in row.values()))
    console.print(table)


@user_app.command("sign-out")
def user_sign_out(email: str, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """End every portal session of a user (their API keys are not touched: see `accord key
    revoke`)."""
    with open_store() as store:
        actor = operator(store, as_)
        target = _account(store, actor, email, may_act_on)
        ended = store.web_sessions.revoke_user(target.id)
        audit(
            store,
            actor,
            "admin",
            target.id,
            via="accord user sign-out",
            change="end sessions",
            sessions_ended=ended,
        )
    if json:
        print_json({"email": target.email, "sessions_ended": ended})
    else:
        console.print(f"Ended {_sessions(ended)} of {shown(target.email)}.")


def _account(
    store: Store, actor: User | None, email: str, rule: Callable[[User, User], bool]
) -> User:
    """The user ``email``, if ``actor`` (None: the local operator) may do this to them by
    ``rule``; an unknown user and one the actor may not act on are refused alike."""
    try:
        target = store.directory.user(email)
    except NotFound:
        target = None
    if target is None or (actor is not None and not rule(actor, target)):
        fail(f"no user {email!r} whose account you may manage")
    return target


def _new_password() -> str:
    """A new password from standard input: one line (its line ending is not part of it), or
    at a terminal asked twice without echo."""
    if _at_terminal():
        return str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        fail("no password on standard input: give it as one line (nothing was changed)")
    return password


def _at_terminal() -> bool:
    return sys.stdin.isatty()


def _check(password: str, email: str) -> None:
    try:
        check_new_password(password, email)
    except WeakPassword as exc:
        fail(f"password refused: {exc} (nothing was changed)")


def _sessions(count: int) -> str:
    return "1 portal session" if count == 1 else f"{count} portal sessions"
