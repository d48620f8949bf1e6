"""Issue 14, item 7: a MISP event's distribution and its TLP tag, the stricter applies; and a
TLP:RED object given organisations as recipients is refused, not silently narrowed."""

from __future__ import annotations

from typing import Any

import pytest

from accord.ingest.misp import MispImporter
from accord.ingest.misp.events import governing_tlp
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.node import Store
from community import Community

INDICATOR = "indicator--7c1d2e3f-0000-4000-8000-00000000d001"


def _event(distribution: str, tag: str) -> dict[str, Any]:
    return {
        "uuid": "7c1d2e3f-2238-42b4-8a90-018b0a016219",
        "info": "own organisation only",
        "timestamp": "1700000000",
        "date": "2023-11-14",
        "distribution": distribution,
        "Tag": [{"name": tag}],
        "Attribute": [
            {
                "uuid": "7c1d2e3f-0000-4000-8000-000000000001",
                "type": "domain",
                "category": "Network activity",
                "value": "own-org-only.example.net",
                "to_ids": True,
            }
        ],
    }


def _seen_by(store: Store, community: Community) -> dict[str, int]:
    viewers = {
        "colleague": Viewer(community.cert.id, community.colleague.id),
        "police": Viewer(community.police.id, community.investigator.id),
        "water": Viewer(community.water.id, community.operator.id),
        "anonymous": Viewer.anonymous(),
    }
    return {name: sum(store.objects.count_latest(v).values()) for name, v in viewers.items()}


@pytest.mark.parametrize(
    ("distribution", "tag", "police_sees"),
    [
        ("0", "tlp:green", False),  # your organisation only: not the node, whatever the tag
        ("0", "tlp:clear", False),
        ("1", "tlp:green", True),  # this community: every member
        ("3", "tlp:clear", True),
        ("4", "tlp:green", False),  # a sharing group naming nobody here: the creator only
    ],
)
def test_the_stricter_of_distribution_and_tlp_applies(
    store: Store, community: Community, distribution: str, tag: str, police_sees: bool
) -> None:
    baseline = _seen_by(store, community)
    importer = MispImporter(store, community.analyst)
    report = importer.ingest_event(_event(distribution, tag), "event.json", IngestOptions())
    assert report.report.ok, report.report.summary()
    seen = {name: count - baseline[name] for name, count in _seen_by(store, community).items()}
    assert seen["colleague"] > 0  # the importer's organisation always sees it
    assert (seen["police"] > 0) is police_sees
    assert (seen["water"] > 0) is police_sees
    if distribution == "0":
        assert seen["anonymous"] == 0


def test_governing_tlp() -> None:
    assert governing_tlp(Tlp.GREEN, Tlp.AMBER, "0") == Tlp.AMBER
    assert governing_tlp(Tlp.RED, Tlp.AMBER, "0") == Tlp.RED
    assert governing_tlp(Tlp.CLEAR, Tlp.AMBER, "1") == Tlp.GREEN
    assert governing_tlp(Tlp.CLEAR, Tlp.AMBER, "3") == Tlp.CLEAR
    assert governing_tlp(None, Tlp.GREEN, "0") == Tlp.AMBER
    assert governing_tlp(None, Tlp.RED, "0") is None  # the default (RED) is stricter already
    assert governing_tlp(None, Tlp.AMBER, None) is None


def test_red_with_organisations_as_recipients_is_refused(
    store: Store, community: Community
) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR,
        "created": "2026-06-01T00:00:00.000Z",
        "modified": "2026-06-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'red.example.net']",
        "pattern_type": "stix",
        "valid_from": "2026-06-01T00:00:00.000Z",
    }
    ingester = Ingester(store, community.analyst)
    options = IngestOptions(tlp=Tlp.RED, recipients=Recipients(frozenset({community.police.id})))
    report = ingester.ingest_objects([indicator], "2.1", "red.json", options)
    assert report.count("rejected") == 1
    assert "TLP:RED is shared with named people only" in report.objects[0].describe()
    assert store.objects.get(Viewer(community.cert.id, community.analyst.id), INDICATOR) is None
    # Naming the investigator (a user) is how RED is shared.
    named = IngestOptions(
        tlp=Tlp.RED, recipients=Recipients(user_ids=frozenset({community.investigator.id}))
    )
    assert ingester.ingest_objects([indicator], "2.1", "red.json", named).ok
    police = Viewer(community.police.id, community.investigator.id)
    assert store.objects.get(police, INDICATOR) is not None
