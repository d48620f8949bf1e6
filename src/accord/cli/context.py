"""What every command shares: the store, the acting user, output in text or JSON."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.cli.display import SafeConsole, shown
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store import migrate
from accord.store.audit import Event
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, NotFound, User

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AsOpt = Annotated[str, typer.Option("--as", help="E-mail of the user to act as.", metavar="EMAIL")]
OperatorOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="E-mail of the user to act as, with that user's rights (default: the local node "
        "operator, who may do everything).",
        metavar="EMAIL",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to a file instead of standard output."),
]

# Data is printed as text, never as markup or terminal controls (accord.cli.display).
console = SafeConsole(soft_wrap=True)  # long ids and paths stay on one line, copyable
errors = SafeConsole(stderr=True)


@dataclass(slots=True)
class AppState:
    db: str | None = None

    @property
    def settings(self) -> Settings:
        """The process's settings (the environment, ``--db``); the node's stored settings
        are not in them: see `node_settings`."""
        try:
            return Settings.from_env(self.db)
        except ValueError as exc:
            fail(str(exc))


state = AppState()


# Exit codes, the same for every command (README "Exit codes"; `accord --help`):
DONE = 0  # done
FAILED = 1  # ran, but did not do it all: nothing the user may see by that id, a file not
# stored, a broken audit chain, a feed that could not be pulled
BAD_INPUT = 2  # bad usage or input: an unknown command or option, a missing argument, a value
# that is not valid (a look-up of something that is no IP, network, domain, URL, e-mail or
# hash; an unknown TLP; a bad timestamp), an unknown user, or a request the role does not allow
EXIT_CODES = (
    "Exit codes: 0 done; 1 failed (nothing you may see by that id, a file not stored, a broken "
    "audit chain, a feed not pulled); 2 bad usage or input (an unknown option, a value that is "
    "not valid, an unknown user, a request your role does not allow)."
)


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """Print an error that says how to fix it, and stop (``code``: see EXIT_CODES)."""
    # The message quotes data (ids, names, paths, parser messages): printed as text.
    errors.print(f"[bold red]error:[/] {shown(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def refuse_nul(values: list[str]) -> None:
    """No looked-up value holds a NUL byte (and PostgreSQL could not store one in the audit)."""
    for value in values:
        if "\x00" in value:
            fail(f"{value!r}: a value must not hold a NUL byte (U+0000)")


@contextmanager
def open_store(require_init: bool = True) -> Iterator[Store]:
    """The node's store; known errors become messages, not tracebacks."""
    url = state.settings.database_url
    store = Store.open(url)
    try:
        if require_init and migrate.current_revision(store.engine) is None:
            fail(f"the database {url} is not initialised: run `accord init` first")
        yield store
    except (NotFound, AlreadyExists, ValueError) as exc:
        fail(str(exc))
    finally:
        store.close()


def node_settings(store: Store) -> Settings:
    """The settings of the node ``store`` holds: the process's, with the node's stored
    settings applied (those that change answers: the same for the command line and the
    server, `accord.settings.NODE_SETTINGS`)."""
    return state.settings.with_node(store.settings.all())


def parse_tlp(text: str | None) -> Tlp | None:
    """``--tlp``: None when not given; a clear error for an unknown level."""
    if text is None:
        return None
    try:
        return Tlp.parse(text)
    except ValueError as exc:
        fail(str(exc))


def acting_user(store: Store, email: str) -> User:
    try:
        return store.directory.user(email)
    except NotFound as exc:
        fail(str(exc))


LOCAL_OPERATOR = "cli:local operator"
"""The actor of a command run without ``--as``: whoever may open the node's database."""


def operator(store: Store, email: str | None, *roles: Role) -> User | None:
    """The user a command acts as (None: the local node operator, who may do everything);
    with ``roles``, a user with another role is refused."""
    if email is None:
        return None
    user = acting_user(store, email)
    if roles and user.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        fail(f"{user.email} is {user.role.with_article}: this needs {allowed}")
    return user


def audit(
    store: Store, user: User | None, action: str, target: str | None, **detail: object
) -> None:
    """Record what a command wrote, like the API does (`accord.api.context.Node.audit`): the
    acting user (or, without ``--as``, the local operator), the action, its target and
    detail. ``detail`` says ``via`` (the command) and ``actor``."""
    store.audit.append(
        Event(
            action=action,
            user_id=user.id if user else None,
            org_id=user.org_id if user else None,
            target=target,
            detail={"actor": user.email if user else LOCAL_OPERATOR, **detail},
        )
    )


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def progress_bar(json: bool) -> Progress:
    """The progress bar every long ingest shows (hidden with --json)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json,
    )


def read_input(path: str) -> tuple[str, bytes]:
    """(name, bytes) of a file argument; "-" is standard input."""
    if path == "-":
        return "<stdin>", sys.stdin.buffer.read()
    file = Path(path)
    if not file.is_file():
        fail(f"{path}: no such file")
    return file.name, file.read_bytes()
