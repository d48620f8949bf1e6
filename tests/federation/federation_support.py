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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from accord.federation.peer_registry import register
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.organisations import Organisation, User
from accord.store.taxii import EVERYTHING_ID

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
        if not self.port:
            self.port = free_port()
        args = [
            sys.executable, "-m", "accord.cli.main", "--db", self.url,
            "serve", "--port", str(self.port),
        ]  # fmt: skip
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                args, env=os.environ | SERVER_ENV, stdout=handle, stderr=subprocess.STDOUT
            )
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
