"""``accord peer``: the nodes this node federates with (add, list, status, remove, pull,
push). See docs/federation.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from accord.cli.context import FAILED, JsonOpt, audit, console, fail, open_store, print_json
from accord.cli.display import shown
from accord.federation.peer_registry import (
    CardUnreachable,
    PeerInputError,
    PeerRequest,
    add_peer,
)
from accord.federation.peer_status import status_rows
from accord.federation.peer_sync import PAGE_SIZE, SyncReport, run
from accord.model.jsondoc import JsonDocumentError, loads
from accord.store.peers import PULL, PUSH
from accord.store.taxii import EVERYTHING_ID

peer_app = typer.Typer(
    help="Peer nodes: exchange over TAXII 2.1 under the hop rule (docs/federation.md).",
    no_args_is_help=True,
)


@peer_app.command("add")
def peer_add(
    name: Annotated[str, typer.Argument(help="A short name for the peer node.")],
    url: Annotated[
        str | None,
        typer.Option(help="The peer's TAXII 2.1 API root, e.g. https://peer/taxii2/accord/."),
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="The API key the peer gave this node (its account there).")
    ] = None,
    card: Annotated[
        Path | None,
        typer.Option(help="The peer's card (`accord node card` there); else fetched from --url."),
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option(help="CA certificates that verify the peer's TLS certificate.")
    ] = None,
    pull: Annotated[
        bool | None, typer.Option("--pull/--no-pull", help="Pull from the peer (or stop).")
    ] = None,
    push: Annotated[
        bool | None, typer.Option("--push/--no-push", help="Push to the peer (or stop).")
    ] = None,
    community: Annotated[
        bool | None,
        typer.Option(
            "--community/--no-community",
            help="The peer is of this node's community: GREEN crosses to it.",
        ),
    ] = None,
    interval: Annotated[
        int | None,
        typer.Option(help="Pull/push every SECONDS in the background (default: by hand).", min=5),
    ] = None,
    collection: Annotated[
        str | None,
        typer.Option(
            help="The peer's collection to read and write (default: everything it lets "
            f"this node see, {EVERYTHING_ID})."
        ),
    ] = None,
    new_key: Annotated[
        bool, typer.Option("--new-key", help="Mint a new key for the peer's account here.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Add a peer node, or change one (options not given keep their value): registers its
    organisations, and makes its account here (role peer), printing the key its operator
    gives to `accord peer add` there."""
    found: Any = None
    if card is not None:
        try:
            found = loads(card.read_bytes())
        except (OSError, JsonDocumentError) as exc:
            fail(f"{card}: not a node card: {exc}")
    request = PeerRequest(
        name,
        url=url,
        key=key,
        card=found,
        ca_file=str(ca_file.resolve()) if ca_file else None,
        collection=collection,
        pull=pull,
        push=push,
        community=community,
        interval=interval,
        new_key=new_key,
    )
    with open_store() as store:
        try:
            registered = add_peer(store, request)
        except CardUnreachable as exc:
            fail(str(exc), code=FAILED)
        except PeerInputError as exc:
            option = "NAME" if exc.field == "name" else "--" + exc.field.replace("_", "-")
            fail(f"{option}: {exc}")
        peer, email, account_key = registered.peer, registered.account, registered.key
        audit(
            store,
            None,
            "admin",
            peer.node_id,
            via="accord peer add",
            change="add peer",
            name=name,
            url=url,
            community=community,
        )
    if json:
        print_json(peer.describe() | {"account": email, "account_key": account_key})
        return
    console.print(
        f"Peer [bold]{shown(name)}[/]: node {shown(peer.node_id)}, hosting "
        f"{len(peer.hosted_orgs)} organisation(s){', community' if peer.community else ''}."
    )
    if account_key:
        console.print(
            f"Its account here is {shown(email)}. Give its operator this key, for "
            f"`accord peer add` on their node:\n{account_key}",
            highlight=False,
        )


@peer_app.command("list")
def peer_list(json: JsonOpt = False) -> None:
    """List the peers (their keys are never shown)."""
    with open_store() as store:
        peers = store.peers.all()
    if json:
        print_json([peer.describe() for peer in peers])
        return
    table = Table("name", "url", "node", "pull", "push", "community", "hosts", "interval")
    for peer in peers:
        table.add_row(
            shown(peer.name),
            shown(peer.url or "(pushes to us)"),
            shown(peer.node_id),
            "yes" if peer.pull else "",
            "yes" if peer.push else "",
            "yes" if peer.community else "",
            shown(len(peer.hosted_orgs)),
            shown(peer.interval or "by hand"),
        )
    console.print(table)


@peer_app.command("status")
def peer_status(json: JsonOpt = False) -> None:
    """Each peer's last successful pull and push, the lag since, and the last errors."""
    with open_store() as store:
        rows = status_rows(store)
    if json:
        print_json(rows)
        return
    table = Table(
        "name", "last pull", "lag (s)", "pull error", "last push", "lag (s)", "push error"
    )
    for row in rows:
        table.add_row(
            shown(row["name"]),
            shown(row["last_pull"] or "never"),
            shown(row["pull_lag_seconds"] if row["pull_lag_seconds"] is not None else ""),
            shown(row["last_pull_error"] or ""),
            shown(row["last_push"] or "never"),
            shown(row["push_lag_seconds"] if row["push_lag_seconds"] is not None else ""),
            shown(row["last_push_error"] or ""),
        )
    console.print(table)


@peer_app.command("remove")
def peer_remove(name: str, json: JsonOpt = False) -> None:
    """Forget a peer and its cursors; its account here is disabled with `accord user`."""
    with open_store() as store:
        peer = store.peers.remove(name)
        audit(
            store,
            None,
            "admin",
            peer.node_id,
            via="accord peer remove",
            change="remove peer",
            name=name,
        )
    if json:
        print_json({"removed": name})
    else:
        console.print(f"Removed peer {shown(name)}.")


def _run(
    direction: str, name: str | None, page_size: int, json: bool, from_start: bool = False
) -> None:
    reports: list[SyncReport] = []
    with open_store() as store:
        peers = [store.peers.get(name)] if name else store.peers.all()
        wanted = [p for p in peers if name or (p.pull if direction == PULL else p.push)]
        if not wanted:
            fail(f"no peer to {direction}: add one with `accord peer add ... --{direction}`")
        for peer in wanted:
            if from_start:
                store.peers.forget_cursor(peer.id, direction)
            report = run(store, peer, direction, page_size=page_size)
            reports.append(report)
            if not json:
                console.print(
                    f"{shown(peer.name)}: {direction} {report.objects} object(s) in "
                    f"{report.pages} page(s), {report.stored} stored, {report.duplicates} "
                    f"already there, {report.refused} refused in {report.seconds} s",
                    highlight=False,
                )
                for reason in report.refusals[:5]:
                    console.print(f"  refused {shown(reason)}", highlight=False)
                if report.error:
                    console.print(f"[red]{shown(peer.name)}: {shown(report.error)}[/]")
    if json:
        print_json([report.as_json() for report in reports])
    if any(report.error for report in reports):
        raise typer.Exit(FAILED)


PageSizeOpt = Annotated[int, typer.Option(help="Objects per request.", min=1, max=10_000)]
FromStartOpt = Annotated[
    bool,
    typer.Option(
        "--from-start",
        help="Start from the beginning, not the cursor: after the peer was given more (made "
        "community, or it hosts a new organisation). What is there already is a duplicate.",
    ),
]


@peer_app.command("pull")
def peer_pull(
    name: Annotated[str | None, typer.Argument(help="Peer (default: every pulled one).")] = None,
    page_size: PageSizeOpt = PAGE_SIZE,
    from_start: FromStartOpt = False,
    json: JsonOpt = False,
) -> None:
    """Pull now what the peer added since the last pull (resumes where it stopped)."""
    _run(PULL, name, page_size, json, from_start)


@peer_app.command("push")
def peer_push(
    name: Annotated[str | None, typer.Argument(help="Peer (default: every pushed one).")] = None,
    page_size: PageSizeOpt = PAGE_SIZE,
    from_start: FromStartOpt = False,
    json: JsonOpt = False,
) -> None:
    """Push now what may cross to the peer and was stored since the last push."""
    _run(PUSH, name, page_size, json, from_start)
