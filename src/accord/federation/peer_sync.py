"""Pulling from and pushing to peer nodes over TAXII 2.1 (docs/federation.md).

- **Pull**: the peer's collection, ``added_after`` this peer's pull cursor, page by page
  (`accord.federation.page_walk`), every version (``match[version]=all``). Each page goes
  through `accord.ingest.from_peer.receive`, and the cursor it moves to is written in the
  same transaction as the page's objects: a pull cut at any point (a kill, a lost peer)
  resumes exactly, and ``(id, modified)`` makes the page fetched again harmless.
- **Push**, for nodes the peer cannot reach (police networks): the versions that may cross to
  the peer (the store applies the hop rule: the peer reads as a `Crossing`), after this peer's
  push cursor (a sequence of this node's store), POSTed to its collection as it would serve
  them (`accord.export.for_peer`), following status resources until they are done; the
  cursor moves once the peer has answered for a page.

Each run holds the peer with a lease (`Peers.claim`) so that two workers never run one peer
at once, records its outcome (`accord peer status`) and is audited.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from accord.export.for_peer import dressed_for_peer
from accord.federation.page_walk import resumable_pages
from accord.federation.read_ahead import ReadAhead
from accord.federation.taxii_client import Page, TaxiiClient, TaxiiClientError
from accord.ingest.from_peer import receive
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.node import Store
from accord.store.peers import PULL, PUSH, Peer
from accord.store.taxii import EVERYTHING, Match

log = logging.getLogger("accord.federation.peer_sync")

PAGE_SIZE = 1000
STATUS_WAIT_SECONDS = 300.0  # how long a push follows a pending status resource
ALL_VERSIONS = {"version": "all"}
BUSY = "another worker is running this peer"  # the error of a run that found the peer held


@dataclass(slots=True)
class SyncReport:
    peer: str
    direction: str
    pages: int = 0
    objects: int = 0  # received (pull) or sent (push)
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    refusals: list[str] = field(default_factory=list)  # the first reasons, for people
    cursor: str | None = None
    error: str | None = None
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def card_url(url: str) -> str:
    """The node card of the Accord node serving TAXII at ``url`` (same scheme and host)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/api/v1/node"


def client_for(url: str, key: str | None, ca_file: str | None = None) -> TaxiiClient:
    """A client for a peer: its certificate verified against ``ca_file`` (else the system's
    trust store; accord.federation.tls)."""
    return TaxiiClient(url, key=key, ca_file=ca_file)


def peer_client(peer: Peer) -> TaxiiClient:
    if peer.url is None:
        raise TaxiiClientError(0, f"peer {peer.name!r} has no URL: it only pushes to this node")
    return client_for(peer.url, peer.secret, peer.ca_file)


def fetch_card(url: str, key: str, ca_file: str | None = None) -> dict[str, Any]:
    """The peer's card, asked of the peer itself with the key it gave us."""
    with client_for(url, key, ca_file) as client:
        return client.get_json(card_url(url))


def pull(
    store: Store,
    peer: Peer,
    page_size: int = PAGE_SIZE,
    client: TaxiiClient | None = None,
    on_page: Callable[[SyncReport], None] | None = None,
) -> SyncReport:
    """Pull what the peer's collection added since this peer's cursor."""
    report = SyncReport(peer.name, PULL)
    report.cursor = store.peers.cursor(peer.id, PULL, peer.collection)
    started = time.perf_counter()
    remote: TaxiiClient | None = client
    pages: ReadAhead[tuple[Page, str | None]] | None = None
    try:
        remote = remote or peer_client(peer)
        # The next page is fetched while this one is stored (accord.federation.read_ahead).
        pages = ReadAhead(
            resumable_pages(remote, peer.collection, report.cursor, page_size, ALL_VERSIONS)
        )
        for page, moved in pages:
            step = (
                None
                if moved is None
                else store.peers.cursor_step(peer.id, PULL, peer.collection, moved)
            )
            outcome = receive(store, peer, page.objects, f"peer {peer.name}", None, step)
            report.pages += 1
            report.objects += len(page.objects)
            report.stored += outcome.count("stored")
            report.duplicates += outcome.count("duplicate")
            _refusals(report, outcome.objects)
            if moved is not None:
                report.cursor = moved
            store.peers.renew(peer.id)
            if on_page is not None:
                on_page(report)
    except TaxiiClientError as exc:
        report.error = str(exc)
    finally:
        if pages is not None:
            pages.close()  # before the client: a page may be in flight
        if client is None and remote is not None:
            remote.close()
        report.seconds = round(time.perf_counter() - started, 3)
    return report


def push(
    store: Store,
    peer: Peer,
    page_size: int = PAGE_SIZE,
    client: TaxiiClient | None = None,
) -> SyncReport:
    """Push what may cross to the peer and was stored since this peer's push cursor."""
    report = SyncReport(peer.name, PUSH)
    cursor = store.peers.cursor(peer.id, PUSH, peer.collection)
    after = int(cursor) if cursor else 0
    report.cursor = cursor
    viewer = Viewer(org_id=peer.operator_org, crossing=store.peers.crossing(peer))
    started = time.perf_counter()
    remote: TaxiiClient | None = client
    try:
        remote = remote or peer_client(peer)
        while entries := store.taxii.page(
            viewer, EVERYTHING, Match(versions=("all",)), after=after, limit=page_size
        ):
            objects = dressed_for_peer(store, entries)
            status = _follow(remote, remote.add_objects(peer.collection, objects))
            report.pages += 1
            report.objects += len(objects)
            report.stored += int(status.get("success_count", 0))
            failures = status.get("failures") or []
            report.refused += len(failures)
            report.refusals.extend(
                f"{item.get('id')}: {item.get('message')}"
                for item in failures[: max(0, 20 - len(report.refusals))]
                if isinstance(item, dict)
            )
            after = entries[-1].seq
            store.peers.set_cursor(peer.id, PUSH, peer.collection, str(after))
            report.cursor = str(after)
            store.peers.renew(peer.id)
        if report.pages == 0:
            remote.api_root()  # nothing to send: a success still means the peer answered
    except TaxiiClientError as exc:
        report.error = str(exc)
    finally:
        if client is None and remote is not None:
            remote.close()
        report.seconds = round(time.perf_counter() - started, 3)
    return report


def _follow(client: TaxiiClient, status: dict[str, Any]) -> dict[str, Any]:
    """Follow a status resource (TAXII 2.1 section 4.3) until it is complete."""
    deadline = time.monotonic() + STATUS_WAIT_SECONDS
    delay = 0.2
    while status.get("status") == "pending" and isinstance(status.get("id"), str):
        if time.monotonic() > deadline:
            raise TaxiiClientError(
                0, f"status {status['id']} still pending after {STATUS_WAIT_SECONDS:.0f} s"
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
        status = client.status(status["id"])
    return status


def _refusals(report: SyncReport, objects: list[Any]) -> None:
    for item in objects:
        if item.status == "rejected":
            report.refused += 1
            if len(report.refusals) < 20:
                report.refusals.append(item.describe())


def run(store: Store, peer: Peer, direction: str, **options: Any) -> SyncReport:
    """One pull or push, holding the peer, with its outcome recorded and audited. A peer
    another worker holds is not run (the report says so)."""
    if not store.peers.claim(peer.id):
        return SyncReport(peer.name, direction, error=BUSY)
    report = SyncReport(peer.name, direction)
    try:
        report = (pull if direction == PULL else push)(store, peer, **options)
    except BaseException as exc:
        report.error = f"interrupted: {exc!r}"
        raise
    finally:
        error = report.error
        if error is None and report.refused:
            error = f"{report.refused} object(s) refused: {'; '.join(report.refusals[:3])}"
        store.peers.finish(peer.id, direction, error)
        store.audit.append(
            Event(
                action=f"federation-{direction}",
                user_id=None,
                org_id=peer.operator_org,
                target=peer.node_id,
                detail={
                    "peer": peer.name,
                    "pages": report.pages,
                    "objects": report.objects,
                    "stored": report.stored,
                    "duplicates": report.duplicates,
                    "refused": report.refused,
                    "error": report.error,
                },
            )
        )
    return report


def run_due(store: Store) -> list[SyncReport]:
    """Pull and push every scheduled peer whose interval has passed."""
    reports: list[SyncReport] = []
    for peer in store.peers.due():
        for direction, wanted in ((PULL, peer.pull), (PUSH, peer.push)):
            if not wanted:
                continue
            report = run(store, peer, direction)
            if report.error:
                log.warning("peer %s %s: %s", peer.name, direction, report.error)
            reports.append(report)
    return reports
