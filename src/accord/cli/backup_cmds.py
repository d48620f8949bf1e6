"""``accord backup`` and ``accord restore``: the node's store as one file, and back
(docs/backup.md). The local node operator's commands: whoever may open the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accord.cli.context import FAILED, JsonOpt, console, fail, open_store, print_json, state
from accord.store import backup as backups
from accord.store.node import Store


def backup(
    path: Annotated[Path, typer.Argument(help="The new backup file.")],
    json: JsonOpt = False,
) -> None:
    """Write a consistent copy of the node's store (--db) to PATH, while the node serves:
    SQLite's online backup API, or pg_dump of the node's PostgreSQL schema."""
    with open_store() as store:
        if not json:
            console.print(f"Backing up {store.engine.url.render_as_string()} to {path} ...")
        try:
            manifest = backups.backup(store, path)
        except backups.RestoreRefused as exc:
            fail(str(exc))
        except backups.BackupFailed as exc:
            fail(str(exc), code=FAILED)
    if json:
        print_json({"path": str(path), **manifest.as_json()})
        return
    console.print(
        f"Backed up {manifest.objects} object versions (newest seq {manifest.newest_seq}) and "
        f"{manifest.audit_entries} audit entries: {manifest.payload_bytes} bytes, "
        f"SHA-256 {manifest.sha256[:16]}..."
    )


def restore(
    path: Annotated[Path, typer.Argument(help="A file `accord backup` wrote.")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="The database to restore into (default: --db).", metavar="URL"),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a store that is there (stop the node first)."),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Restore the backup PATH into a new database (or, with --force, in place of a store):
    the file is checked whole first, and the restored store's objects and audit chain after."""
    url = to or state.settings.database_url
    try:
        manifest = backups.restore(url, path, force=force)
    except backups.RestoreRefused as exc:
        fail(str(exc))
    except backups.BackupFailed as exc:
        fail(str(exc), code=FAILED)
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            found = backups.facts(conn)
        count, breaks = store.audit.verify()
    finally:
        store.close()
    expected = {key: getattr(manifest, key) for key in found}
    ok = found == expected and not breaks
    if json:
        print_json(
            {
                "path": str(path),
                "ok": ok,
                "manifest": manifest.as_json(),
                "restored": found,
                "audit_breaks": len(breaks),
            }
        )
    elif ok:
        console.print(
            f"Restored {found['objects']} object versions (newest seq {found['newest_seq']}) "
            f"and {count} audit entries, which chain correctly, from {path} (made "
            f"{manifest.created})."
        )
    else:
        console.print(
            f"Restored from {path}, but the store differs from the backup's manifest "
            f"({found} against {expected}) or its audit chain has {len(breaks)} break(s)."
        )
    if not ok:
        raise typer.Exit(FAILED)
