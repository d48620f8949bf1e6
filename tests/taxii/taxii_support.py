"""TAXII test support: generated objects stored directly (fast), and real servers on loopback:
an Accord node (`accord serve`) and medallion 3.0.0 (its memory backend)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.records import NewVersion
from community import Community, make_community

MEDALLION_DATA = "taxii/medallion-test-data/default_data.json"
SERVER_ENV = {
    "PYTHONUNBUFFERED": "1",
    "ACCORD_RATE_PER_SECOND": "100000",
    "ACCORD_RATE_BURST": "100000",
    "ACCORD_FEED_POLL_SECONDS": "0",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def indicator(
    number: int, tlp: Tlp = Tlp.GREEN, modified: str = "2026-01-01T00:00:00.000Z"
) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{number:08x}-0000-4000-8000-00000000beef",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"generated {number}",
        "pattern": f"[ipv4-addr:value = '10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [tlp.marking_id],
    }


def put_generated(
    store: Store, org_id: str, count: int, start: int = 0, chunk: int = 10_000
) -> list[str]:
    """Store ``count`` GREEN indicators straight through the store (no validation or index:
    the TAXII tests are about serving them). Answers their ids."""
    ids = []
    for first in range(start, start + count, chunk):
        versions = []
        for number in range(first, min(start + count, first + chunk)):
            obj = indicator(number)
            ids.append(str(obj["id"]))
            versions.append(
                NewVersion(
                    number,
                    str(obj["id"]),
                    "2026-01-01T00:00:00.000000Z",
                    "indicator",
                    "2.1",
                    None,
                    False,
                    Tlp.GREEN,
                    frozenset(),
                    orjson.dumps(obj).decode(),
                )
            )
        store.writer.put(versions, org_id, None)
    return ids


def start_server(
    args: list[str], log: Path, health: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:  # the child keeps its own descriptor
        process = subprocess.Popen(
            args, env=os.environ | SERVER_ENV | (env or {}), stdout=handle, stderr=subprocess.STDOUT
        )
    for _ in range(150):
        try:
            httpx.get(health, timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    else:
        process.terminate()
        raise AssertionError(f"the server did not start: {log.read_text()}")
    if process.poll() is not None:
        raise AssertionError(f"the server stopped: {log.read_text()}")
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def make_node(url: str) -> tuple[Store, Community, dict[str, str]]:
    store = Store.open(url)
    store.init()
    community = make_community(store)
    keys = {
        u.email: store.directory.new_key(u.email)
        for u in (
            community.analyst,
            community.colleague,
            community.investigator,
            community.operator,
        )
    }
    admin, key = store.directory.add_user("boss@water.example", "Water Utility", Role.ORG_ADMIN)
    keys[admin.email] = key
    return store, community, keys


@pytest.fixture
def node_store(store_url: str) -> Iterator[tuple[Store, Community, dict[str, str], str]]:
    store, community, keys = make_node(store_url)
    try:
        yield store, community, keys, store_url
    finally:
        store.close()


def serve(tmp_path: Path, db: str, name: str = "server") -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    args = [sys.executable, "-m", "accord.cli.main", "--db", db, "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    return base, start_server(args, tmp_path / f"{name}.log", base + "/health")


@pytest.fixture
def medallion(tmp_path: Path, shared_data: Path) -> Iterator[str]:
    """medallion 3.0.0 on loopback, memory backend, its own test data (user admin)."""
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(shared_data / MEDALLION_DATA),
        },
        "users": {"admin": "Password0"},
        "taxii": {"max_page_size": 100},
    }
    path = tmp_path / "medallion.json"
    path.write_text(json.dumps(config))
    port = free_port()
    args = [sys.executable, "-m", "medallion.scripts.run", "--port", str(port), str(path)]
    base = f"http://127.0.0.1:{port}"
    process = start_server(args, tmp_path / "medallion.log", base + "/taxii2/")
    try:
        yield base
    finally:
        stop(process)
