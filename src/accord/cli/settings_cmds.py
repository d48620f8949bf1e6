"""``accord settings``: the node's settings that change its answers, kept in its database.

They are the same for every interface of the node (this command line, the API workers, the
bulk helper, TAXII): `accord.settings.NODE_SETTINGS`. A running server reads them when it
starts, so it takes a change when it is restarted.
"""

from __future__ import annotations

from typing import Annotated

import typer

from accord.cli.context import (
    JsonOpt,
    OperatorOpt,
    audit,
    console,
    fail,
    node_settings,
    open_store,
    operator,
    print_json,
    state,
)
from accord.cli.display import shown
from accord.model.roles import Role
from accord.settings import NODE_SETTINGS, Settings, node_setting_text

settings_app = typer.Typer(
    help="The node's settings that change its answers (the same for the command line and "
    "the server).",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="KEY", help=f"One of: {', '.join(NODE_SETTINGS)}.")]
RESTART = "a running server takes it when it is restarted"


@settings_app.command("show")
def settings_show(json: JsonOpt = False) -> None:
    """Show the node's settings: each value, and whether it is stored or the default."""
    with open_store() as store:
        stored = store.settings.all()
        current = node_settings(store)
    defaults = Settings()
    rows = [
        {
            "key": name,
            "value": setting.show(getattr(current, setting.field)),
            "default": setting.show(getattr(defaults, setting.field)),
            "stored": name in stored,
            "help": setting.help,
        }
        for name, setting in NODE_SETTINGS.items()
    ]
    if json:
        print_json(rows)
        return
    for row in rows:
        source = "set on this node" if row["stored"] else "default"
        console.print(f"[bold]{row['key']}[/] ({source}): {row['help']}", highlight=False)
        console.print(f"  {shown(row['value']) or '(none)'}", highlight=False)


@settings_app.command("set")
def settings_set(
    name: NameArg,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The new value.")],
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Set one of the node's settings (node admins, or the local operator; audited)."""
    _change(name, value, as_, json)


@settings_app.command("unset")
def settings_unset(name: NameArg, as_: OperatorOpt = None, json: JsonOpt = False) -> None:
    """Put one of the node's settings back to its default (node admins; audited)."""
    _change(name, None, as_, json)


def _change(name: str, value: str | None, as_: str | None, json: bool) -> None:
    try:
        text = None if value is None else node_setting_text(name, value)
    except ValueError as exc:
        fail(str(exc))
    with open_store() as store:
        actor = operator(store, as_, Role.ADMIN)
        if text and name == "warninglists.ignore" and state.settings.warninglists:
            _known_lists(text)
        old = store.settings.set(name, text)
        audit(
            store,
            actor,
            "admin",
            name,
            via=f"accord settings {'set' if text is not None else 'unset'}",
            setting=name,
            old=old,
            new=text,
        )
        current = NODE_SETTINGS[name].show(getattr(node_settings(store), NODE_SETTINGS[name].field))
    if json:
        print_json({"key": name, "value": current, "stored": text is not None, "was": old})
        return
    console.print(f"{name} = {shown(current) or '(none)'} ({RESTART})", highlight=False)


def _known_lists(text: str) -> None:
    """Every name in the ignore list names a warninglist (a typo would ignore nothing)."""
    from accord.intel.warninglists import WarningLists

    known = set(WarningLists.load().list_names)
    unknown = sorted(name for name in text.split(",") if name not in known)
    if unknown:
        fail(
            f"warninglists.ignore: not the name of a warninglist: {', '.join(map(repr, unknown))}"
            " (give each list's name as MISP's warninglists write it, e.g. "
            "'List of RFC 5735 CIDR blocks')"
        )
