"""``accord feed``: TAXII 2.1 feeds to pull from (add, list, pull)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from accord.cli.context import (
    AsOpt,
    JsonOpt,
    acting_user,
    audit,
    console,
    fail,
    node_settings,
    open_store,
    parse_tlp,
    print_json,
    progress_bar,
)
from accord.cli.display import shown
from accord.federation.feed_pull import PAGE_SIZE, client_for, pull
from accord.federation.taxii_client import TaxiiClient, TaxiiClientError
from accord.ingest.stix import recipients_from_names
from accord.store.feeds import Feed

feed_app = typer.Typer(help="TAXII 2.1 feeds this node pulls from.", no_args_is_help=True)


@feed_app.command("add")
def feed_add(
    name: str,
    taxii: Annotated[str, typer.Option("--taxii", help="API root (or discovery) URL.")],
    collection: Annotated[str, typer.Option(help="Collection id on that server.")],
    as_: AsOpt,
    user: Annotated[str | None, typer.Option(help="HTTP Basic user name.")] = None,
    password: Annotated[str | None, typer.Option(help="HTTP Basic password.")] = None,
    key: Annotated[str | None, typer.Option(help="API key, sent as a Bearer token.")] = None,
    tlp: Annotated[
        str | None, typer.Option(help="TLP for pulled objects without a TLP marking.")
    ] = None,
    recipients: Annotated[
        str | None,
        typer.Option(help="For AMBER objects: comma-separated organisations, or group:NAME."),
    ] = None,
    interval: Annotated[
        int | None,
        typer.Option(help="Pull every SECONDS in the server (default: only by hand).", min=10),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Add a feed: a collection on a TAXII 2.1 server, pulled as the user --as."""
    if key is not None and (user is not None or password is not None):
        fail("give either --user and --password, or --key")
    if (user is None) != (password is None):
        fail("--user and --password go together")
    level = parse_tlp(tlp)
    with open_store() as store:
        owner = acting_user(store, as_)
        if not owner.role.may_ingest:
            fail(f"{owner.email} is {owner.role.with_article}: feeds need an analyst or admin")
        named = recipients_from_names(store, (recipients or "").split(","))
        feed = store.feeds.add(
            name,
            "taxii",
            owner.id,
            url=taxii,
            collection=collection,
            username=user,
            secret=password if user is not None else key,
            tlp=level,
            org_ids=sorted(named.org_ids),
            group_ids=sorted(named.group_ids),
            interval=interval,
        )
        audit(
            store,
            owner,
            "admin",
            feed.id,
            via="accord feed add",
            change="add feed",
            name=feed.name,
            url=taxii,
            collection=collection,
        )
    if json:
        print_json({"id": feed.id, "name": feed.name, "url": feed.url, "collection": collection})
    else:
        console.print(
            f"Added feed [bold]{shown(feed.name)}[/] ({shown(taxii)}, "
            f"collection {shown(collection)})."
        )


@feed_app.command("list")
def feed_list(json: JsonOpt = False) -> None:
    """List feeds with their cursors and last pulls (credentials are not shown)."""
    with open_store() as store:
        found = [(feed, store.feeds.count(feed.id)) for feed in store.feeds.all()]
    rows = [
        {
            "name": feed.name,
            "kind": feed.kind,
            "url": feed.url,
            "collection": feed.collection,
            "tlp": feed.tlp.slug if feed.tlp is not None else None,
            "interval": feed.interval,
            "cursor": feed.cursor,
            "last_pull": feed.last_pull,
            "last_error": feed.last_error,
            "objects": count,
        }
        for feed, count in found
    ]
    if json:
        print_json(rows)
        return
    table = Table("name", "url", "collection", "interval", "cursor", "objects", "last error")
    for row in rows:
        table.add_row(
            shown(row["name"]),
            shown(row["url"] or ""),
            shown(row["collection"] or ""),
            shown(row["interval"] or "by hand"),
            shown(row["cursor"] or ""),
            shown(row["objects"]),
            shown(row["last_error"] or ""),
        )
    console.print(table)


@feed_app.command("pull")
def feed_pull(
    name: Annotated[str | None, typer.Argument(help="Feed to pull (default: every one).")] = None,
    page_size: Annotated[int, typer.Option(help="Objects per request.", min=1)] = PAGE_SIZE,
    ca_file: Annotated[
        str | None,
        typer.Option(
            "--ca-file",
            help="PEM file of the CAs that may vouch for the servers' TLS certificates "
            "(default: the system's trust store).",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Pull what each feed's collection added since the last pull (resumes where it
    stopped)."""
    reports = []
    with open_store() as store:
        feeds = [store.feeds.get(name)] if name else store.feeds.all()
        feeds = [feed for feed in feeds if feed.kind == "taxii"]
        if name is None and not feeds:
            fail("no TAXII feeds: add one with `accord feed add`", code=1)
        for feed in feeds:
            with _client(feed, ca_file) as remote, progress_bar(json) as bar:
                task = bar.add_task(shown(feed.name), total=None)
                report = pull(
                    store,
                    feed,
                    node_settings(store).default_tlp,
                    page_size=page_size,
                    progress=lambda n, task=task: bar.advance(task, n),  # type: ignore[misc]
                    client=remote,
                )
            reports.append(report)
            audit(
                store,
                None,
                "write",
                feed.id,
                via="accord feed pull",
                feed=feed.name,
                received=report.received,
                stored=report.stored,
                duplicates=report.duplicates,
                rejected=report.rejected,
                error=report.error,
            )
            if not json:
                line = (
                    f"{shown(feed.name)}: {report.received} received in {report.pages} page(s), "
                    f"{report.stored} stored, {report.duplicates} already stored, "
                    f"{report.rejected} rejected; cursor {shown(report.cursor or '-')}"
                )
                console.print(line, highlight=False)
                if report.error:
                    console.print(
                        f"[red]{shown(feed.name)}: {shown(report.error)}[/]", highlight=False
                    )
    if json:
        print_json([report.as_json() for report in reports])
    if any(report.error for report in reports):
        raise typer.Exit(1)


def _client(feed: Feed, ca_file: str | None) -> TaxiiClient:
    try:
        return client_for(feed, ca_file)
    except TaxiiClientError as exc:  # the CA file is missing or holds no certificate
        fail(str(exc))
