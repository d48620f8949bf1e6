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

from accord.cli.display import SafeConsole, shown
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store import migrate
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, NotFound, User

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
AsOpt = Annotated[str, typer.Option("--as", help="E-mail of the user to act as.", metavar="EMAIL")]
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
        return Settings.from_env(self.db)


state = AppState()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error that says how to fix it, and stop."""
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


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
