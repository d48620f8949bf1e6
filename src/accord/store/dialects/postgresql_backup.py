"""Backups of a PostgreSQL store (`accord.store.backup`): ``pg_dump`` of the node's schema in
custom format, from a snapshot the facts of the manifest are read in too; a restore runs
``pg_restore`` in one transaction and renames the schema into place, keeping what was there
until the copy is in.

The tools run as subprocesses with the URL's connection parameters; a password travels in
``PGPASSWORD``, never on a command line. ``pg_dump`` must be of the server's major version or
newer (Debian: the ``postgresql-client`` package of that version)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from accord.store.dialects.base import BackupFailed, Facts, RestoreRefused

# URL query parameters that are not libpq connection keywords for the tools (the session's
# search_path is the URL's choice of schema, which the tools are told by name).
_NOT_FOR_TOOLS = frozenset({"options"})


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(
            f"{name} is not installed: install PostgreSQL's client tools (Debian: "
            "postgresql-client) of the server's version"
        )
    return found


def _connection(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string for the tools, and their environment (the password)."""
    params: dict[str, Any] = {
        key: value for key, value in url.query.items() if key not in _NOT_FOR_TOOLS
    }
    for key, value in (
        ("host", url.host),
        ("port", url.port),
        ("user", url.username),
        ("dbname", url.database),
    ):
        if value is not None:
            params[key] = str(value)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return make_conninfo("", **params), env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        name = Path(command[0]).name
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupFailed(f"{name} failed: {' / '.join(detail[-3:]) or done.returncode}")


def _pattern(schema: str) -> str:
    """``schema`` as a pg_dump ``-n`` pattern that matches that name only."""
    return '"' + schema.replace('"', '""') + '"'


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def dump(engine: Engine, url: URL, payload: Path, facts: Facts) -> tuple[str, dict[str, Any]]:
    """``pg_dump -Fc -n SCHEMA`` of the store's schema into ``payload``, from the snapshot of
    a repeatable-read transaction held open meanwhile, in which ``facts`` are read."""
    tool = _tool("pg_dump")
    conninfo, env = _connection(url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            if schema is None:
                raise RestoreRefused("the database URL's search_path names no schema that exists")
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = facts(conn)
            _run(
                [
                    tool,
                    "--format=custom",
                    f"--schema={_pattern(schema)}",
                    f"--snapshot={snapshot}",
                    f"--file={payload}",
                    f"--dbname={conninfo}",
                ],
                env,
            )
    return str(schema), found


def _target_schema(conn: Connection) -> str:
    """The schema the URL's session uses: the first of its search_path (it may not exist)."""
    current = conn.execute(text("SELECT current_schema()")).scalar()
    if current is not None:
        return str(current)
    path = str(conn.execute(text("SELECT current_setting('search_path')")).scalar_one())
    for item in path.split(","):
        name = item.strip()
        if name and name != '"$user"':
            return name[1:-1].replace('""', '"') if name.startswith('"') else name
    raise RestoreRefused("the database URL names no schema to restore into (search_path)")


def _exists(conn: Connection, schema: str) -> bool:
    found = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": schema})
    return found.first() is not None


def _holds_relations(conn: Connection, schema: str) -> bool:
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :n LIMIT 1"
        ),
        {"n": schema},
    )
    return found.first() is not None


def load(engine: Engine, url: URL, payload: Path, schema: str, force: bool) -> None:
    """``pg_restore`` the dump of ``schema`` into the schema ``url`` uses. A schema there is
    renamed aside first and dropped only once the copy is in (renamed back if it fails)."""
    tool = _tool("pg_restore")
    conninfo, env = _connection(url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        target = _target_schema(conn)
        if _holds_relations(conn, target) and not force:
            raise RestoreRefused(
                f"the schema {target} already holds tables: restore into a new database, or "
                "give --force to replace it (stop the node first)"
            )
        if schema != target and _exists(conn, schema):
            raise RestoreRefused(
                f"the backup holds the schema {schema}, which this database has too: restore "
                f"into the schema {schema} (with --force) or into another database"
            )
        aside = None
        if _exists(conn, target):
            aside = f"accord_restore_{uuid.uuid4().hex[:12]}"
            conn.execute(text(f"ALTER SCHEMA {_quoted(target)} RENAME TO {_quoted(aside)}"))
        try:
            _run(
                [
                    tool,
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    f"--dbname={conninfo}",
                    str(payload),
                ],
                env,
            )
            if schema != target:
                conn.execute(text(f"ALTER SCHEMA {_quoted(schema)} RENAME TO {_quoted(target)}"))
        except BaseException:
            # Nothing of the copy stays; what was there comes back. (The name ``schema`` is
            # free here: it was ``target``, renamed aside, or absent, checked above.)
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_quoted(schema)} CASCADE"))
            if aside is not None:
                conn.execute(text(f"ALTER SCHEMA {_quoted(aside)} RENAME TO {_quoted(target)}"))
            raise
        if aside is not None:
            conn.execute(text(f"DROP SCHEMA {_quoted(aside)} CASCADE"))
