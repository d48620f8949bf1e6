"""``accord audit``: verify the audit log's hash chain, and read it as an admin may."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from accord.cli.context import (
    FAILED,
    LOCAL_OPERATOR,
    AsOpt,
    JsonOpt,
    OperatorOpt,
    acting_user,
    console,
    fail,
    open_store,
    operator,
    print_json,
)
from accord.cli.display import shown
from accord.intel import audit_view
from accord.model.roles import Role
from accord.model.timestamps import timestamp_key
from accord.store import audit_anchor
from accord.store import audit_archive as archives
from accord.store.audit import Break, Event

audit_app = typer.Typer(help="The audit log: verify its hash chain, read it.", no_args_is_help=True)


def _break(found: Break) -> dict[str, Any]:
    return {"seq": found.seq, "reason": found.reason, "kind": found.kind}


@audit_app.command("verify")
def audit_verify(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Archive files (with --archive), in any order.",
            metavar="FILE...",
            show_default=False,
        ),
    ] = None,
    archive: Annotated[
        bool,
        typer.Option(
            "--archive",
            help="Check the archive FILES too: their signatures and hashes, and that the chain "
            "runs unbroken from the first entry through them into the live log.",
        ),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Check the audit log's hash chain (from its archive anchor, if it was archived); exit 1
    if an entry was changed, deleted or inserted, 2 for an archive file that cannot be read."""
    if bool(files) != archive:
        fail("give archive files with --archive: accord audit verify --archive FILE [FILE...]")
    with open_store() as store:
        if archive:
            try:
                full = archives.verify_with_archives(store, files or [])
            except archives.Unreadable as exc:
                fail(str(exc))
            check, breaks = full.live, list(full.breaks)
        else:
            check = store.audit.verify_chain()
            breaks = list(check.breaks)
    if json:
        result: dict[str, Any] = {
            "entries": check.count,
            "ok": not breaks,
            "archived_through": check.archived_through,
            "breaks": [_break(b) for b in breaks],
        }
        if archive:
            result["archives"] = [
                {
                    "path": str(one.path),
                    "first_seq": one.manifest.first_seq,
                    "last_seq": one.manifest.last_seq,
                    "entries": one.entries,
                    "ok": one.intact,
                }
                for one in full.archives
            ]
        print_json(result)
    elif breaks:
        for found in breaks:
            console.print(f"[red]entry {found.seq}[/]: {shown(found.reason)}", highlight=False)
        console.print(f"{len(breaks)} break(s).")
    else:
        since = ""
        if check.archived_through is not None:
            since = f" from the archive anchor (entries up to {check.archived_through} archived)"
        if archive:
            console.print(
                f"The audit log is intact: {full.archived_entries} entries in "
                f"{len(full.archives)} archive(s) and {check.count} live entries chain "
                "correctly from the first entry.",
                highlight=False,
            )
        else:
            console.print(
                f"The audit log is intact: {check.count} entries chain correctly{since}.",
                highlight=False,
            )
    if breaks:
        raise typer.Exit(FAILED)


def _before(before: str | None, keep_days: int | None) -> str:
    if (before is None) == (keep_days is None):
        fail("give either --before DATE or --keep-days N")
    if keep_days is not None:
        if keep_days < 0:
            fail("--keep-days must be 0 or more")
        day = datetime.now(UTC) - timedelta(days=keep_days)
        return day.isoformat(timespec="microseconds")[:26] + "Z"
    assert before is not None
    try:
        when = datetime.fromisoformat(before)
    except ValueError:
        fail(f"--before: {before!r} is no date (2026-01-31) or RFC 3339 time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # a date or a time without an offset: UTC
    return when.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


@audit_app.command("archive")
def audit_archive_cmd(
    path: Annotated[Path, typer.Argument(help="The archive file to write (a new file).")],
    before: Annotated[
        str | None,
        typer.Option(help="Archive the entries written before this date or RFC 3339 time (UTC)."),
    ] = None,
    keep_days: Annotated[
        int | None, typer.Option(help="Archive all but the entries of the last N days.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            help=f"Archive entries of the last {archives.MIN_AGE_DAYS} days too (refused "
            "without it)."
        ),
    ] = False,
    as_: OperatorOpt = None,
    json: JsonOpt = False,
) -> None:
    """Move the audit entries written before a date to a signed archive file, oldest first;
    the live log's chain then starts from the archive (`accord audit verify --archive` checks
    it across). The file is written and checked before any entry is deleted."""
    cut = _before(before, keep_days)
    with open_store() as store:
        user = operator(store, as_, Role.ADMIN)
        event = Event(
            "admin",
            user.id if user else None,
            user.org_id if user else None,
            "audit-archive",
            {"actor": user.email if user else LOCAL_OPERATOR, "via": "accord audit archive"},
        )
        try:
            manifest = archives.archive(store, path, cut, event, force=force)
        except archives.ArchiveRefused as exc:
            fail(str(exc))
        except (archives.ArchiveFailed, archives.Unreadable) as exc:
            fail(str(exc), code=FAILED)
    if json:
        print_json({"path": str(path), "manifest": manifest.as_json()})
        return
    console.print(
        f"Archived {manifest.count} audit entries ({manifest.first_seq} to "
        f"{manifest.last_seq}) to {path}; the live log now starts after entry "
        f"{manifest.last_seq}. Signed with key {audit_anchor.fingerprint(manifest.public_key)} "
        f"(public key {manifest.public_key}): keep it apart from the node to check archives "
        "by.",
        highlight=False,
    )


@audit_app.command("show")
def audit_show(
    as_: AsOpt,
    org: Annotated[
        str | None, typer.Option(help="Only this organisation (name or id; node admins).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="RFC 3339 timestamp.")] = None,
    action: Annotated[str | None, typer.Option(help="lookup, read, write or admin.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 100,
    json: JsonOpt = False,
) -> None:
    """Show audit entries, oldest first, as the node admin or org-admin ``--as`` may see them:
    who did what and when, with the objects and verdicts only they may see."""
    with open_store() as store:
        user = acting_user(store, as_)
        if not audit_view.may_read(user):
            allowed = ", ".join(role.value for role in audit_view.READERS)
            fail(f"{user.role.with_article} may not read the audit log (needs: {allowed})")
        org_id = audit_view.scope(user)
        if org:
            wanted = store.directory.org(org).id
            if org_id is not None and wanted != org_id:
                fail("an org-admin reads only their own organisation's entries")
            org_id = wanted
        try:
            since_key = timestamp_key(since) if since else None
        except ValueError as exc:
            fail(f"--since: {exc}")
        entries = audit_view.present(
            store.audit.entries(org_id, since_key, action, 0, limit),
            store.directory.viewer(user),
            store.objects,
        )
    if json:
        print_json(entries)
        return
    table = Table("seq", "at", "action", "target", "org", "detail")
    for e in entries:
        table.add_row(
            str(e["seq"]),
            shown(e["at"]),
            shown(e["action"]),
            shown(e["target"]),
            shown(e["org_id"]),
            shown(str(e["detail"])[:60]),
        )
    console.print(table)
