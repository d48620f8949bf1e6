"""``accord``: thin commands over the library. Each one turns errors into messages."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli import (
    allowlist_cmds,
    audit_cmds,
    correlation_cmds,
    export_cmds,
    extract_cmds,
    feed_cmds,
    ingest_cmds,
    server_cmds,
    settings_cmds,
    taxii_cmds,
)
from accord.cli.context import (
    EXIT_CODES,
    AsOpt,
    JsonOpt,
    OperatorOpt,
    acting_user,
    audit,
    console,
    fail,
    open_store,
    operator,
    print_json,
    refuse_nul,
    state,
)
from accord.cli.display import print_json_human, shown
from accord.intel.search import match_json, search_value
from accord.model.errors import StixError
from accord.model.observables import ObservableError
from accord.model.roles import Role, may_act_on, may_manage
from accord.store import migrate
from accord.store.node import Store
from accord.store.organisations import NotFound, User

app = typer.Typer(
    help="Accord: share, look up and correlate threat intelligence, with TLP 2.0 enforced.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="Organisations of this node.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their API keys.", no_args_is_help=True)
key_app = typer.Typer(help="API keys: list, add and revoke a user's keys.", no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups: named sets of organisations.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="key")
app.add_typer(group_app, name="group")
app.add_typer(export_cmds.export_app, name="export")
app.add_typer(ingest_cmds.ingest_app, name="ingest")

# Commands from other modules: registered here, one line each.
app.command()(correlation_cmds.correlations)
app.command()(correlation_cmds.sight)
app.add_typer(allowlist_cmds.allowlist_app, name="allowlist")
app.command("extract")(extract_cmds.extract)
app.command()(server_cmds.serve)
app.command()(server_cmds.lookup)
app.add_typer(audit_cmds.audit_app, name="audit")
app.add_typer(feed_cmds.feed_app, name="feed")
app.add_typer(settings_cmds.settings_app, name="settings")
app.add_typer(taxii_cmds.taxii_app, name="taxii")


@app.callback()
def main_options(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: $ACCORD_DATABASE_URL or sqlite:///var/accord.db).",
            metavar="URL",
        ),
    ] = None,
) -> None:
    state.db = db


@app.command()
def init(json: JsonOpt = False) -> None:
    """Create or upgrade the database and publish the TLP 2.0 definitions."""
    with open_store(require_init=False) as store:
        store.init()
        revision = migrate.current_revision(store.engine)
    if json:
        print_json({"database": state.settings.database_url, "revision": revision})
    else:
        console.print(f"Initialised {shown(state.settings.database_url)} (schema {revision}).")


# -- organisations, groups, users -----------------------------------------------------------


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


# -- reading --------------------------------------------------------------------------------


@app.command()
def search(
    value: str,
    as_: AsOpt,
    kind: Annotated[
        str | None, typer.Option(help="Value type, if detection guesses wrong.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """What a user may see about a value: indicators, observables, CIDRs, parent domains."""
    refuse_nul([value])
    with open_store() as store:
        user = acting_user(store, as_)
        try:
            result = search_value(store, store.directory.viewer(user), value, kind)
        except ObservableError as exc:
            fail(str(exc))
    if json:
        print_json(result.as_json())
        return
    observable = result.observable
    assert observable is not None
    if not result.matches:
        console.print(
            f"Nothing known to {shown(user.email)} about {observable.kind} "
            f"{shown(observable.value)}.",
            highlight=False,
        )
        return
    table = Table(
        "relation",
        "via",
        "type",
        "name / pattern",
        "TLP",
        "id",
        title=f"{observable.kind} {shown(observable.value)}",
    )
    for match in result.matches:
        found = match_json(match)
        label = found.get("name") or found.get("pattern") or ""
        table.add_row(
            shown(match.relation),
            shown(match.value),
            shown(match.obj.type),
            shown(str(label)[:60]),
            match.obj.tlp.label,
            shown(match.obj.id),
        )
    console.print(table)


@app.command()
def get(
    object_id: Annotated[str, typer.Argument(metavar="ID")],
    as_: AsOpt,
    versions: Annotated[
        bool, typer.Option("--versions", help="Every version the user may see.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Show an object (its latest version) if the user may see it."""
    with open_store() as store:
        viewer = store.directory.viewer(acting_user(store, as_))
        found = (
            store.objects.versions(viewer, object_id)
            if versions
            else [o for o in [store.objects.get(viewer, object_id)] if o]
        )
    if not found:
        fail(f"no object {object_id} that {as_} may see", code=1)
    payload = [o.json() for o in found] if versions else found[0].json()
    if json:
        print_json(payload)
    else:
        print_json_human(console, payload)


@app.command()
def demo(
    json: JsonOpt = False,
    attack: Annotated[
        bool, typer.Option(help="Load MITRE ATT&CK too (about half a minute; --no-attack: not).")
    ] = True,
) -> None:
    """Build a demo node (organisations, users, intelligence at every TLP, ATT&CK) and show
    what each organisation gets when it looks up the same value, and why."""
    from accord.cli.demo import run_demo

    with open_store(require_init=False) as store:
        run_demo(store, json=json, attack=attack)
        audit(store, None, "write", None, via="accord demo")


def main() -> None:
    try:
        app()
    except StixError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
