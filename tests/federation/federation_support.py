"""Accord nodes for federation tests: each its own store (a SQLite file, or a PostgreSQL
schema), its own organisations and analysts, a node identity, and an ``accord serve``
process on a free loopback port; peering between two nodes as their operators would do it
(`accord.federation.peer_registry.register` on each side)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from accord.federation.peer_registry import register
from accord.federation.peer_sync import SyncReport, run
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.organisations import Organisation, User
from accord.store.peers import PULL, PUSH
from accord.store.taxii import EVERYTHING, EVERYTHING_ID, Match

SERVER_ENV = {
    "ACCORD_WARNINGLISTS": "0",  # no warninglist index to load: a node starts in a second
    "ACCORD_FEED_POLL_SECONDS": "0",
    "ACCORD_PEER_POLL_SECONDS": "0",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


@dataclass
class Node:
    name: str
    url: str  # the database
    store: Store
    orgs: dict[str, Organisation]
    analysts: dict[str, User]  # by organisation name
    keys: dict[str, str]  # by e-mail
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    peer_keys: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def taxii(self) -> str:
        return f"{self.base}/taxii2/accord/"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start ``accord serve`` without waiting for it (`start_all` starts several at once:
        each spends seconds importing on a busy machine)."""
        if not self.port:
            self.port = free_port()
        args = [
            sys.executable, "-m", "accord.cli.main", "--db", self.url,
            "serve", "--port", str(self.port), "--no-bulk-helper",
        ]  # fmt: skip
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                args, env=os.environ | SERVER_ENV, stdout=handle, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + 120  # a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/health", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        raise AssertionError(f"node {self.name} did not start: {self.log.read_text()}")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def make_node(name: str, url: str, org_names: list[str], folder: Path) -> Node:
    store = Store.open(url)
    store.init()
    orgs: dict[str, Organisation] = {}
    analysts: dict[str, User] = {}
    keys: dict[str, str] = {}
    for org_name in org_names:
        orgs[org_name] = store.directory.add_org(org_name, "government", "EX")
        user, key = store.directory.add_user(
            f"analyst@{slug(org_name)}.example", org_name, Role.ANALYST
        )
        analysts[org_name] = user
        keys[user.email] = key
    store.identity.set(f"{name} node", orgs[org_names[0]].id)
    return Node(name, url, store, orgs, analysts, keys, folder / f"{name}.log")


def _register(node: Node, other: Node, **options: Any) -> None:
    """``node`` registers ``other`` (keeping what it knew of it) and keeps the key made for
    ``other``'s account on ``node``."""
    try:
        known = node.store.peers.get(other.name)
        kept: dict[str, Any] = {
            "url": known.url,
            "secret": known.secret,
            "pull": known.pull,
            "push": known.push,
        }
    except ValueError:
        kept = {}
    merged = kept | {k: v for k, v in options.items() if v or k not in kept}
    done = register(node.store, other.name, other.store.identity.card(), **merged)
    if done.key is not None:
        node.peer_keys[other.name] = done.key


def peer(
    a: Node, b: Node, *, pull: bool = True, push: bool = False, community: bool = True
) -> None:
    """``a`` pulls from (and/or pushes to) ``b``: ``b`` registers ``a`` (making its account
    there), ``a`` registers ``b`` with that account's key. Both see each other's card."""
    _register(b, a, collection=EVERYTHING_ID, community=community)
    _register(
        a,
        b,
        url=b.taxii,
        secret=b.peer_keys[a.name],
        collection=EVERYTHING_ID,
        pull=pull,
        push=push,
        community=community,
    )


def indicator(
    number: int,
    tlp: Tlp,
    creator: str | None = None,
    modified: str = "2026-01-01T00:00:00.000Z",
    recipients: list[str] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{number:08x}-0000-4000-8000-0000000fed01",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"federated {number}",
        "pattern": f"[ipv4-addr:value = '10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [tlp.marking_id],
    }
    if creator is not None:
        obj["created_by_ref"] = creator
    if recipients:
        obj["extensions"] = {
            "extension-definition--96e0a503-ffe6-4099-aef7-5854883752b4": {
                "extension_type": "property-extension",
                "recipient_organizations": recipients,
            }
        }
    return obj


def start_all(nodes: list[Node]) -> None:
    """Start several nodes at once (their imports overlap), then wait for each."""
    for node in nodes:
        node.launch()
    for node in nodes:
        node.wait_ready()


def link(a: Node, b: Node, *, community: bool) -> None:
    """``a`` and ``b`` pull from each other: each makes the other's account first (the keys
    they exchange), then registers the other's URL with that key. (Registering a peer again
    without ``url`` would clear its URL and flags: `Peers.add` replaces them.)"""
    options: dict[str, Any] = {"collection": EVERYTHING_ID, "community": community}
    key_for_a = register(b.store, a.name, a.store.identity.card(), **options).key
    key_for_b = register(a.store, b.name, b.store.identity.card(), **options).key
    assert key_for_a is not None and key_for_b is not None
    b.peer_keys[a.name], a.peer_keys[b.name] = key_for_a, key_for_b
    register(
        a.store, b.name, b.store.identity.card(), url=b.taxii, secret=key_for_a, pull=True,
        **options,
    )  # fmt: skip
    register(
        b.store, a.name, a.store.identity.card(), url=a.taxii, secret=key_for_b, pull=True,
        **options,
    )  # fmt: skip


def share(node: Node, org: str, objects: list[dict[str, Any]]) -> None:
    """Store ``objects`` on ``node`` as its analyst of ``org`` would."""
    report = Ingester(node.store, node.analysts[org]).ingest_objects(
        objects, "2.1", "test", IngestOptions()
    )
    assert report.ok, report.summary()


def sync_node(node: Node) -> list[SyncReport]:
    """One pull and/or push of each of ``node``'s peers, as `accord peer pull/push` runs it."""
    reports: list[SyncReport] = []
    for registered in node.store.peers.all():
        for direction, wanted in ((PULL, registered.pull), (PUSH, registered.push)):
            if wanted:
                reports.append(run(node.store, registered, direction))
    return reports


def versions_seen(node: Node, org: str, types: tuple[str, ...] = ("indicator",)) -> set[str]:
    """Every version (``id@modified``) the analyst of ``org`` may see on ``node``, read
    through the store's visibility rule as a TAXII listing reads it."""
    viewer = node.store.directory.viewer(node.analysts[org])
    match = Match(types=types, versions=("all",))
    entries = node.store.taxii.page(viewer, EVERYTHING, match, limit=100_000, raw=False)
    return {f"{entry.id}@{entry.modified}" for entry in entries}


def stored_rows(node: Node, object_type: str | None = "indicator") -> int:
    """The object versions ``node`` stores (of one type; None: of any)."""
    with node.store.engine.connect() as conn:
        if object_type is None:
            count = conn.execute(text("SELECT count(*) FROM objects")).scalar()
        else:
            count = conn.execute(
                text("SELECT count(*) FROM objects WHERE type = :type"), {"type": object_type}
            ).scalar()
    return int(count or 0)


def wait_for(condition: Callable[[], bool], seconds: float = 120, step: float = 0.02) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds} s")
        time.sleep(step)


def duplicate_rows(node: Node) -> list[tuple[Any, ...]]:
    """Versions stored twice for one holder (the unique constraint should make it empty)."""
    with node.store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, modified, owner_org, count(*) FROM objects "
                "GROUP BY id, modified, owner_org HAVING count(*) > 1"
            )
        ).all()
    return [tuple(row) for row in rows]


def audit_events(node: Node, action: str) -> list[dict[str, Any]]:
    """The audit log's events of one action, their detail decoded, oldest first."""
    with node.store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT detail FROM audit_log WHERE action = :action ORDER BY seq"),
            {"action": action},
        ).all()
    return [orjson.loads(row[0]) for row in rows]
