"""Leak matrix for the MISP feed and MISP exports: what each viewer's manifest, hashes.csv and
events hold, for events at every TLP level (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from accord.export import misp_feed
from accord.ingest.misp import MispImporter
from accord.ingest.stix import IngestOptions
from accord.store.node import Store
from community import Community

SHARING_GROUP = {
    "name": "CERT and police",
    "uuid": "9f0c2d4e-1111-4000-8000-000000000000",
    "SharingGroupOrg": [
        {"Organisation": {"name": "CERT-EX"}},
        {"Organisation": {"name": "Police Cyber Unit"}},
    ],
}
# name -> (tags, distribution, extra event keys)
EVENTS: dict[str, tuple[list[str], str, dict[str, Any]]] = {
    "clear": (["tlp:clear"], "3", {}),
    "white": (["tlp:white"], "3", {}),
    "green": (["tlp:green"], "3", {}),
    "amber": (["tlp:amber"], "0", {}),
    "amber-group": (["tlp:amber"], "4", {"SharingGroup": SHARING_GROUP}),
    "amber-strict": (["tlp:amber+strict"], "0", {}),
    "red": (["tlp:red"], "0", {}),
}
UUIDS = {name: f"5bbe5b1c-{index:04d}-4000-8000-000000000000" for index, name in enumerate(EVENTS)}
# viewer -> events it may see
SEES = {
    "analyst": set(EVENTS),
    "colleague": set(EVENTS) - {"red"},
    "investigator": {"clear", "white", "green", "amber-group"},
    "operator": {"clear", "white", "green"},
}


def misp_event(name: str) -> dict[str, Any]:
    tags, distribution, extra = EVENTS[name]
    return {
        "uuid": UUIDS[name],
        "info": f"{name} event",
        "date": "2024-05-01",
        "timestamp": "1714521600",
        "distribution": distribution,
        "Tag": [{"name": tag} for tag in tags],
        "Attribute": [
            {
                "uuid": UUIDS[name][:-4] + "0001",
                "type": "domain",
                "category": "Network activity",
                "value": f"{name}.evil.example",
                "to_ids": True,
            },
            {
                "uuid": UUIDS[name][:-4] + "0002",
                "type": "ip-dst",
                "category": "Network activity",
                "value": f"198.51.100.{len(name)}",
                "to_ids": False,
            },
        ],
        **extra,
    }


@pytest.fixture
def fed(store: Store, community: Community) -> Community:
    importer = MispImporter(store, community.analyst)
    for name in EVENTS:
        report = importer.ingest_event(misp_event(name), name, IngestOptions())
        assert report.ok, report.summary()
    return community


@pytest.mark.parametrize("viewer_name", sorted(SEES))
def test_feed_shows_each_viewer_what_it_may_see(
    store: Store, fed: Community, viewer_name: str
) -> None:
    viewer = store.directory.viewer(getattr(fed, viewer_name))
    expected = {UUIDS[name] for name in SEES[viewer_name]}
    hidden = set(UUIDS.values()) - expected

    manifest = misp_feed.manifest(store, viewer)
    assert set(manifest) == expected

    lines = misp_feed.hashes_csv(store, viewer).splitlines()
    assert {line.split(",")[1] for line in lines} == expected
    for name in EVENTS:
        digest = hashlib.md5(f"{name}.evil.example".encode(), usedforsecurity=False).hexdigest()
        assert (f"{digest},{UUIDS[name]}" in lines) == (name in SEES[viewer_name])

    for event_uuid in hidden:
        assert misp_feed.event(store, viewer, event_uuid) is None
    for event_uuid in expected:
        found = misp_feed.event(store, viewer, event_uuid)
        assert found is not None
        assert {a["type"] for a in found["Event"]["Attribute"]} == {"domain", "ip-dst"}
    exported = {e["Event"]["uuid"] for e in misp_feed.all_events(store, viewer)}
    assert exported == expected


def test_a_visible_report_does_not_reveal_hidden_objects(store: Store, fed: Community) -> None:
    """A GREEN event whose one attribute is RED: outsiders get the event without it."""
    event = misp_event("green")
    event["uuid"] = "5bbe5b1c-9999-4000-8000-000000000000"
    event["Attribute"][0]["uuid"] = "5bbe5b1c-9999-4000-8000-000000000001"
    event["Attribute"][1]["uuid"] = "5bbe5b1c-9999-4000-8000-000000000002"
    event["Attribute"][0]["Tag"] = [{"name": "tlp:red"}]
    importer = MispImporter(store, fed.analyst)
    assert importer.ingest_event(event, "mixed", IngestOptions()).ok
    outsider = store.directory.viewer(fed.operator)
    found = misp_feed.event(store, outsider, event["uuid"])
    assert found is not None
    assert [a["type"] for a in found["Event"]["Attribute"]] == ["ip-dst"]
    creator = store.directory.viewer(fed.analyst)
    found = misp_feed.event(store, creator, event["uuid"])
    assert found is not None and len(found["Event"]["Attribute"]) == 2
    digest = hashlib.md5(b"green.evil.example", usedforsecurity=False).hexdigest()
    assert f"{digest},{event['uuid']}" not in misp_feed.hashes_csv(store, outsider)
