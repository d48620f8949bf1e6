"""Helpers for the correlation tests: indicators and SCOs by value, and reading as a user."""

from __future__ import annotations

import uuid
from typing import Any

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.correlation.read import Correlations
from accord.store.correlation.results import CorrelationResult
from accord.store.node import Store
from accord.store.organisations import User

NS = uuid.UUID("6f1c7c53-5d2a-4c3e-9a55-0000000000c0")
PATHS = {
    "ipv4": "ipv4-addr:value",
    "ipv6": "ipv6-addr:value",
    "domain": "domain-name:value",
    "url": "url:value",
    "email": "email-addr:value",
}


def indicator(name: str, pattern: str, tlp: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NS, name)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [tlp.marking_id],
        **extra,
    }


def value_indicator(name: str, path: str, value: str, tlp: Tlp = Tlp.GREEN) -> dict[str, Any]:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return indicator(name, f"[{path} = '{escaped}']", tlp)


def ingest(
    store: Store, user: User, objects: list[dict[str, Any]], recipients: Recipients | None = None
) -> None:
    report = Ingester(store, user).ingest_objects(
        objects, "2.1", "test", IngestOptions(recipients=recipients or Recipients())
    )
    assert report.ok, report.summary()


def correlations_of(store: Store, viewer: Viewer, object_id: str) -> CorrelationResult | None:
    return Correlations(store.engine).of_object(viewer, object_id)


def related(store: Store, viewer: Viewer, object_id: str) -> dict[str, set[str]]:
    """other object name -> relations, for the objects correlated with ``object_id``."""
    result = correlations_of(store, viewer, object_id)
    assert result is not None
    found: dict[str, set[str]] = {}
    for c in result.correlations:
        found.setdefault(str(c.obj.json().get("name") or c.obj.id), set()).add(c.relation)
    return found


def ident(name: str) -> str:
    return f"indicator--{uuid.uuid5(NS, name)}"
