"""`accord webhook ...` and `/api/v1/webhooks` end to end: who may keep which webhook, the
secret shown once, another organisation's webhook answering like a missing one, and the
server's background task delivering to a real receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner
from webhook_receiver import Receiver, receiving, verify

from accord.api.app import create_app
from accord.cli.main import app
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from accord.store.schema import audit_log

runner = CliRunner()
REPO_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache"
INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--11111111-0000-4000-8000-000000000001",
    "created": "2026-03-01T00:00:00.000Z",
    "modified": "2026-03-01T00:00:00.000Z",
    "pattern": "[ipv4-addr:value = '198.51.100.7']",
    "pattern_type": "stix",
    "valid_from": "2026-03-01T00:00:00Z",
    "object_marking_refs": [Tlp.GREEN.marking_id],
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(REPO_CACHE))
    monkeypatch.setenv("ACCORD_WEBHOOK_ALLOW_PRIVATE", "1")
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "org", "add", "Water Utility")
    for email, org, role in [
        ("analyst@cert.example", "CERT-EX", "analyst"),
        ("boss@cert.example", "CERT-EX", "org-admin"),
        ("boss@water.example", "Water Utility", "org-admin"),
        ("root@node.example", "Water Utility", "admin"),
    ]:
        accord(store_url, "user", "add", email, "--org", org, "--role", role)
    return store_url


def test_webhook_commands(db: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    denied = accord(db, "webhook", "add", receiver.url, "--as", "analyst@cert.example", code=2)
    assert "only org-admins and admins" in denied.output
    bad = accord(db, "webhook", "add", "ftp://x.example/", "--as", "boss@cert.example", code=2)
    assert "https://" in bad.output
    both = accord(
        db,
        "webhook",
        "add",
        receiver.url,
        "--max-tlp",
        "amber",
        "--tlp",
        "red",
        "--as",
        "boss@cert.example",
        code=2,
    )
    assert "not both" in both.output

    added = accord(
        db,
        "webhook",
        "add",
        receiver.url,
        "--type",
        "indicator",
        "--max-tlp",
        "amber",
        "--as",
        "boss@cert.example",
        "--json",
    )
    hook = orjson.loads(added.stdout)
    secret = hook["secret"]
    assert len(secret) == 64 and hook["filters"]["tlps"] == ["clear", "green", "amber"]
    text = accord(db, "webhook", "add", receiver.url, "--as", "boss@cert.example")
    assert "Secret (shown once" in text.output

    listed = orjson.loads(
        accord(db, "webhook", "list", "--as", "boss@cert.example", "--json").stdout
    )
    assert len(listed) == 2 and all("secret" not in h for h in listed)
    assert (
        orjson.loads(accord(db, "webhook", "list", "--as", "boss@water.example", "--json").stdout)
        == []
    )
    assert (
        len(
            orjson.loads(
                accord(db, "webhook", "list", "--as", "root@node.example", "--json").stdout
            )
        )
        == 2
    )

    # Another organisation's webhook is like one that does not exist.
    other = accord(db, "webhook", "remove", hook["id"], "--as", "boss@water.example", code=1)
    missing = accord(db, "webhook", "remove", "no-such-id", "--as", "boss@water.example", code=1)
    assert other.output.replace(hook["id"], "X") == missing.output.replace("no-such-id", "X")
    accord(db, "webhook", "status", hook["id"], "--as", "boss@water.example", code=1)

    pinged = accord(db, "webhook", "test", hook["id"], "--as", "boss@cert.example")
    assert "answered HTTP 204" in pinged.output
    assert verify(secret, receiver.requests[-1])

    store = Store.open(db)
    try:
        analyst = store.directory.user("analyst@cert.example")
        data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": [INDICATOR]})
        assert Ingester(store, analyst).ingest_bytes(data, "t", IngestOptions()).ok
    finally:
        store.close()

    receiver.statuses = [500, 500]
    failed = accord(db, "webhook", "deliver", "--as", "boss@cert.example", code=1)
    assert "HTTP 500" in failed.output
    status = orjson.loads(accord(db, "webhook", "status", hook["id"], "--json").stdout)
    assert status["failures"] == 1 and "500" in status["last_error"]
    assert status["next_attempt"] is not None and status["deliveries"][0]["status"] == 500
    shown = accord(db, "webhook", "status", "--as", "boss@cert.example")
    assert "HTTP 500" in shown.output

    delivered = orjson.loads(accord(db, "webhook", "deliver", hook["id"], "--json").stdout)
    assert delivered == [{"id": hook["id"], "events": 1, "posts": 1, "error": None, "more": False}]
    status = orjson.loads(accord(db, "webhook", "status", "--json").stdout)
    mine = next(h for h in status if h["id"] == hook["id"])
    assert mine["failures"] == 0 and mine["last_error"] is None and mine["last_success"]

    accord(db, "webhook", "remove", hook["id"], "--as", "boss@cert.example")
    assert len(orjson.loads(accord(db, "webhook", "list", "--json").stdout)) == 1
    store = Store.open(db)
    try:
        with store.engine.connect() as conn:
            details = " ".join(conn.execute(select(audit_log.c.detail)).scalars())
    finally:
        store.close()
    assert "add webhook" in details and "remove webhook" in details

    monkeypatch.setenv("ACCORD_WEBHOOK_ALLOW_PRIVATE", "0")
    refused = accord(db, "webhook", "add", receiver.url, "--as", "boss@cert.example", code=2)
    assert "loopback" in refused.output and "ACCORD_WEBHOOK_ALLOW_PRIVATE" in refused.output


# -- REST ---------------------------------------------------------------------------------


@pytest.fixture
def node(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    # The server's background jobs deliver: only the webhooks job, every second.
    monkeypatch.setenv("ACCORD_JOBS", "in-process")
    monkeypatch.setenv("ACCORD_WEBHOOK_POLL_SECONDS", "1")
    for other in ("FEED_POLL", "PEER_POLL", "WARNINGLISTS_REFRESH"):
        monkeypatch.setenv(f"ACCORD_{other}_SECONDS", "0")
    d = store.directory
    d.add_org("CERT-EX")
    d.add_org("Water Utility")
    keys = {}
    for email, org, role in [
        ("analyst@cert.example", "CERT-EX", Role.ANALYST),
        ("boss@cert.example", "CERT-EX", Role.ORG_ADMIN),
        ("boss@water.example", "Water Utility", Role.ORG_ADMIN),
        ("root@node.example", "Water Utility", Role.ADMIN),
    ]:
        keys[email] = d.add_user(email, org, role)[1]
    settings = Settings(database_url=store_url, warninglists=False, webhook_allow_private=True)
    with TestClient(create_app(settings, store=store)) as http:
        yield http, keys


def _as(keys: dict[str, str], email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[email]}"}


def test_webhooks_api_and_background_deliveries(
    store: Store, node: tuple[TestClient, dict[str, str]], receiver: Receiver
) -> None:
    http, keys = node
    body = {"url": receiver.url, "types": ["indicator"], "max_tlp": "green"}
    assert (
        http.post(
            "/api/v1/webhooks", json=body, headers=_as(keys, "analyst@cert.example")
        ).status_code
        == 403
    )
    refused = http.post(
        "/api/v1/webhooks",
        json=body | {"url": "http://0.0.0.0/"},
        headers=_as(keys, "boss@cert.example"),
    )
    assert refused.status_code == 422 and "not an address" in refused.text
    made = http.post("/api/v1/webhooks", json=body, headers=_as(keys, "boss@cert.example"))
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"] and hook["filters"]["tlps"] == ["clear", "green"]

    mine = http.get("/api/v1/webhooks", headers=_as(keys, "boss@cert.example")).json()
    assert [h["id"] for h in mine] == [hook["id"]] and "secret" not in mine[0]
    assert http.get("/api/v1/webhooks", headers=_as(keys, "boss@water.example")).json() == []
    assert len(http.get("/api/v1/webhooks", headers=_as(keys, "root@node.example")).json()) == 1

    other = http.delete(f"/api/v1/webhooks/{hook['id']}", headers=_as(keys, "boss@water.example"))
    missing = http.delete("/api/v1/webhooks/nope", headers=_as(keys, "boss@water.example"))
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(hook["id"], "X") == missing.json()["detail"].replace(
        "nope", "X"
    )
    assert (
        http.get(
            f"/api/v1/webhooks/{hook['id']}", headers=_as(keys, "boss@water.example")
        ).status_code
        == 404
    )

    # The server's background job delivers (ACCORD_WEBHOOK_POLL_SECONDS=1).
    posted = http.post(
        "/api/v1/bundles",
        content=orjson.dumps({"type": "bundle", "id": "bundle--2", "objects": [INDICATOR]}),
        headers=_as(keys, "analyst@cert.example") | {"Content-Type": "application/json"},
    )
    assert posted.status_code < 300, posted.text
    deadline = time.monotonic() + 15
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [e["id"] for e in receiver.events()] == [INDICATOR["id"]]
    assert verify(hook["secret"], receiver.requests[0])
    # The receiver answers before the round records it: wait for the record.
    seen: dict[str, Any] = {}
    while not seen.get("last_success") and time.monotonic() < deadline:
        url = f"/api/v1/webhooks/{hook['id']}"
        seen = http.get(url, headers=_as(keys, "boss@cert.example")).json()
        time.sleep(0.05)
    assert seen["last_success"] and seen["failures"] == 0

    gone = http.delete(f"/api/v1/webhooks/{hook['id']}", headers=_as(keys, "root@node.example"))
    assert gone.status_code == 204
    assert http.get("/api/v1/webhooks", headers=_as(keys, "boss@cert.example")).json() == []
