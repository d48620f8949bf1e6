"""Issue 14, item 6: an object whose TLP came from ``tlp=`` (or a collection's or the node's
default) leaves the node carrying that TLP by every path: REST, TAXII, the STIX export and the
MISP feed, so that a consumer downstream cannot lose the AMBER."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from accord.export.misp_feed import all_events
from accord.export.stix import export_bundle
from accord.model.tlp import MARKING_TLP, Tlp
from accord.model.visibility import Viewer
from accord.taxii.collections import DEFAULT_ID
from api.conftest import Api

CREATED = "2026-06-01T00:00:00.000Z"
INDICATOR = "indicator--6b1d2e3f-0000-4000-8000-00000000c001"
REPORT = "report--6b1d2e3f-0000-4000-8000-00000000c002"


def _unmarked() -> list[dict[str, Any]]:
    common = {"spec_version": "2.1", "created": CREATED, "modified": CREATED}
    return [
        {
            "type": "indicator",
            "id": INDICATOR,
            "name": "unmarked C2",
            "pattern": "[domain-name:value = 'unmarked.example.net']",
            "pattern_type": "stix",
            "valid_from": CREATED,
            **common,
        },
        {
            "type": "report",
            "id": REPORT,
            "name": "Unmarked report",
            "published": CREATED,
            "object_refs": [INDICATOR],
            **common,
        },
    ]


def _levels(obj: dict[str, Any]) -> list[Tlp]:
    return [MARKING_TLP[ref] for ref in obj.get("object_marking_refs", []) if ref in MARKING_TLP]


@pytest.mark.parametrize("tlp", [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.RED])
def test_every_egress_path_carries_the_tlp_given_at_ingest(api: Api, tlp: Tlp) -> None:
    analyst = api.client("analyst@cert.example")
    result = analyst.ingest({"type": "bundle", "objects": _unmarked()}, tlp=tlp.slug)
    assert result["stored"] == 2

    # REST: one object, the listing.
    assert _levels(analyst.get(INDICATOR)) == [tlp]
    listed = {o["id"]: o for o in analyst.objects(types=["indicator", "report"])}
    assert [_levels(listed[i]) for i in (INDICATOR, REPORT)] == [[tlp], [tlp]]

    # TAXII.
    headers = {
        "Authorization": f"Bearer {api.keys['analyst@cert.example']}",
        "Accept": "application/taxii+json;version=2.1",
    }
    page = api.http.get(f"/taxii2/accord/collections/{DEFAULT_ID}/objects/", headers=headers)
    taxii = {o["id"]: o for o in page.json()["objects"]}
    assert [_levels(taxii[i]) for i in (INDICATOR, REPORT)] == [[tlp], [tlp]]

    # The STIX export and the MISP feed.
    community = api.community
    viewer = Viewer(community.cert.id, community.analyst.id)
    bundle = orjson.loads("".join(export_bundle(api.store, viewer)))
    exported = {o["id"]: o for o in bundle["objects"]}
    assert [_levels(exported[i]) for i in (INDICATOR, REPORT)] == [[tlp], [tlp]]
    events = list(all_events(api.store, viewer))
    assert len(events) == 1
    tags = {tag["name"] for tag in events[0]["Event"]["Tag"]}
    assert f"tlp:{tlp.slug}" in tags
