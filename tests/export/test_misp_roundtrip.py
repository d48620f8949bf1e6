"""STIX -> MISP -> STIX: a report and what it references become one MISP event that PyMISP
loads and that imports back to the same STIX (types, pattern values, relationships)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from pymisp import MISPEvent

from accord.export.misp import event_from_stix
from accord.ingest.misp import read_path
from accord.ingest.misp.equivalence import summarise
from accord.ingest.misp.events import EventConverter


def round_trip(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    report = next(obj for obj in objects if obj["type"] == "report")
    exported = event_from_stix(report, {obj["id"]: obj for obj in objects})
    loaded = MISPEvent()
    loaded.load(orjson.loads(orjson.dumps(exported)))  # PyMISP accepts it
    back = orjson.loads(loaded.to_json())
    return exported, EventConverter().convert(back).objects


def real_events(shared_data: Path) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for folder in (shared_data / "eset-malware-ioc", shared_data / "misp" / "pymisp-tests"):
        for document in read_path(folder):
            found.extend((document.source, event) for event in document.events)
    return found


def test_every_real_event_round_trips(shared_data: Path) -> None:
    events = real_events(shared_data)
    assert len(events) >= 55
    failures = []
    for source, event in events:
        objects = EventConverter().convert(event).objects
        _, back = round_trip(objects)
        differences = summarise(objects).differences(summarise(back))
        if differences:
            failures.append(f"{source}: {differences}")
    assert not failures, "\n".join(failures)


def test_round_trip_keeps_ids_tlp_and_relationships(shared_data: Path) -> None:
    path = shared_data / "misp" / "pymisp-tests" / "mispevent_testfiles" / "existing_event.json"
    [document] = read_path(path)
    objects = EventConverter().convert(document.events[0]).objects
    exported, back = round_trip(objects)
    assert {o["id"] for o in back if o["type"] != "relationship"} == {
        o["id"] for o in objects if o["type"] != "relationship"
    }
    assert exported["Event"]["Tag"][0] == {"name": "tlp:clear"}
    assert {o["id"] for o in back if o["type"] == "relationship"} == {
        o["id"] for o in objects if o["type"] == "relationship"
    }


@pytest.mark.parametrize(
    "pattern, misp_type, value",
    [
        ("[domain-name:value = 'evil.example']", "domain", "evil.example"),
        ("[ipv4-addr:value = '198.51.100.23']", "ip-dst", "198.51.100.23"),
        ("[file:hashes.'SHA-256' = '" + "a" * 64 + "']", "sha256", "a" * 64),
        ("[url:value = 'http://evil.example/x']", "url", "http://evil.example/x"),
    ],
)
def test_plain_stix_indicators_export(pattern: str, misp_type: str, value: str) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--0b5b6b5a-9a5e-4e8e-8a8f-0c0e0e0e0e01",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--0b5b6b5a-9a5e-4e8e-8a8f-0c0e0e0e0e02",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "plain",
        "published": "2024-01-01T00:00:00.000Z",
        "object_refs": [indicator["id"]],
    }
    event = event_from_stix(report, {indicator["id"]: indicator})["Event"]
    [attribute] = event["Attribute"]
    assert (attribute["type"], attribute["value"], attribute["to_ids"]) == (misp_type, value, True)
    MISPEvent().load({"Event": event})


def _misp_event(published: object) -> dict[str, Any]:
    return {
        "uuid": "5c1f2a3e-7d7b-4d1a-9a55-0b6b2f0a1c0" + ("1" if published else "2"),
        "info": "Invoice lure",
        "date": "2026-01-05",
        "timestamp": "1767603600",
        "publish_timestamp": "1767607200" if published else "0",
        "published": published,
        "analysis": "2",
        "threat_level_id": "1",
        "Tag": [{"name": "tlp:green"}],
        "Attribute": [
            {
                "uuid": "5c1f2a3e-7d7b-4d1a-9a55-0b6b2f0a1d0" + ("1" if published else "2"),
                "type": "ip-dst",
                "category": "Network activity",
                "value": "198.51.100.23",
                "to_ids": True,
                "timestamp": "1767603600",
            }
        ],
    }


@pytest.mark.parametrize(
    "published, expected",
    [(True, True), (False, False), ("1", True), ("0", False), (None, False)],
)
def test_round_trip_keeps_whether_the_event_was_published(
    published: object, expected: bool
) -> None:
    event = _misp_event(published)
    objects = EventConverter().convert(event).objects
    [report] = [o for o in objects if o["type"] == "report"]
    assert report["x_misp_published"] is expected
    exported, back = round_trip(objects)
    assert exported["Event"]["published"] is expected
    [again] = [o for o in back if o["type"] == "report"]
    assert again["x_misp_published"] is expected


def test_a_plain_stix_report_exports_unpublished() -> None:
    """A STIX report always has a `published` date; that alone does not publish a MISP
    event (which would release it to sync and alerts)."""
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--0b5b6b5a-9a5e-4e8e-8a8f-0c0e0e0e0e03",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "plain",
        "published": "2024-01-01T00:00:00.000Z",
        "object_refs": [],
    }
    assert event_from_stix(report, {})["Event"]["published"] is False
