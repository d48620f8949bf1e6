"""Single look-ups keep one connection checked out on the event loop's thread
(`Store.lookup_session`): it must never be left holding a transaction, or the log could
not be checkpointed and later look-ups would read an old snapshot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.client import Client
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from community import make_community


def _indicator(value: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0c0c0c0c-0000-4000-8000-000000000001",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00.000Z",
    }


def test_the_held_connection_holds_no_transaction_between_look_ups(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    store = Store.open(f"sqlite:///{db}")
    store.init()
    community = make_community(store)
    key = store.directory.new_key(community.analyst.email)
    app = create_app(Settings(database_url=f"sqlite:///{db}", rate_burst=100_000), store=store)
    with TestClient(app) as http:
        client = Client("http://testserver", key, http=http)
        assert client.lookup("first.example.org")["verdict"] == "unknown"
        sessions = store.lookup_sessions
        held = sessions.held
        assert held is not None and not held.in_transaction()
        # A value that is not one fails inside the look-up: the connection is still clean.
        assert client.http.get("/api/v1/lookup", params={"value": "x" * 20}).status_code == 422
        assert not held.in_transaction()
        # A look-up that fails after reading (here: its audit entry) leaves none open either
        # (the network prefixes are read through SQLAlchemy, which opens a transaction).
        store.index.prefixes.clear()
        failing = store.audit.record

        def broken(*events: object, on: object) -> None:
            raise RuntimeError("the disk is full")

        store.audit.record = broken  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            client.lookup("second.example.org")
        store.audit.record = failing  # type: ignore[method-assign]
        assert not held.in_transaction()
        # Another writer's object is seen at once (no old snapshot kept) ...
        Ingester(store, community.analyst).ingest_objects(
            [_indicator("first.example.org")], "2.1", "t", IngestOptions(tlp=Tlp.GREEN)
        )
        assert client.lookup("first.example.org")["verdict"] != "unknown"
        assert sessions.held is held  # the same connection served both
        # ... and nothing keeps the log from being checkpointed and started over.
        with sqlite3.connect(db) as other:
            busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    assert held.closed  # checked in when the server stopped
    store.close()


def test_postgresql_look_ups_survive_a_lost_connection(pg_schema_url: str) -> None:
    """On PostgreSQL the held connection runs in autocommit with generic plans; if the
    server drops it (a restart), the next look-up is answered on a new one, and the
    session setting never reaches the pool."""
    store = Store.open(pg_schema_url)
    store.init()
    community = make_community(store)
    key = store.directory.new_key(community.analyst.email)
    Ingester(store, community.analyst).ingest_objects(
        [_indicator("kept.example.org")], "2.1", "t", IngestOptions(tlp=Tlp.GREEN)
    )
    app = create_app(Settings(database_url=pg_schema_url, rate_burst=100_000), store=store)
    with TestClient(app) as http:
        client = Client("http://testserver", key, http=http)
        assert client.lookup("kept.example.org")["verdict"] != "unknown"
        sessions = store.lookup_sessions
        held = sessions.held
        assert held is not None and not held.in_transaction()
        driver = held.connection.driver_connection
        assert driver.execute("SHOW plan_cache_mode").fetchone()[0] == "force_generic_plan"
        with store.engine.connect() as other:  # a pooled connection keeps the default
            assert other.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
            other.exec_driver_sql(f"SELECT pg_terminate_backend({driver.info.backend_pid})")
            other.commit()
        before = len(store.audit.entries(action="lookup"))
        answer = client.lookup("kept.example.org")
        assert answer["verdict"] != "unknown"
        assert sessions.held is not held and held.closed
        # Answered once, audited once, on the new connection.
        assert len(store.audit.entries(action="lookup")) == before + 1
        assert store.audit.verify()[1] == []
    with store.engine.connect() as other:
        assert other.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
    store.close()
