"""The object page in Chromium: the relationship graph is drawn, a click on an object adds
its own neighbours, and the page (and the diff of two versions) has no serious accessibility
violation."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from accessibility import assert_accessible
from live_node import LiveNode
from playwright.sync_api import Page, expect

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp

CREATED = "2026-05-01T08:00:00.000Z"


def _sdo(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, 'browser graph ' + name)}",
        "created": CREATED,
        "modified": CREATED,
        "name": name,
        "object_marking_refs": [Tlp.GREEN.marking_id],
        **extra,
    }


def _rel(source: dict[str, Any], kind: str, target: dict[str, Any]) -> dict[str, Any]:
    rel = _sdo("relationship", f"{source['id']} {kind} {target['id']}")
    del rel["name"]
    return rel | {"relationship_type": kind, "source_ref": source["id"], "target_ref": target["id"]}


def _seed(node: LiveNode) -> dict[str, dict[str, Any]]:
    """An indicator of a malware that uses a technique and is used by an actor; the
    indicator in two versions. Stored once per node (again: duplicates)."""
    found = {
        "indicator": _sdo(
            "indicator",
            "Browser graph beacon",
            pattern="[domain-name:value = 'beacon.graph-test.example']",
            pattern_type="stix",
            valid_from=CREATED,
        ),
        "malware": _sdo("malware", "Browser graph loader", is_family=True),
        "technique": _sdo("attack-pattern", "Browser graph technique"),
        "actor": _sdo("intrusion-set", "Browser graph actor"),
    }
    newer = found["indicator"] | {"modified": "2026-05-02T08:00:00.000Z", "confidence": 60}
    objects = [
        *found.values(),
        newer,
        _rel(found["indicator"], "indicates", found["malware"]),
        _rel(found["malware"], "uses", found["technique"]),
        _rel(found["actor"], "uses", found["malware"]),
    ]
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})
    report = Ingester(node.store, node.cast.community.analyst).ingest_bytes(
        data, "browser", IngestOptions()
    )
    assert report.ok, report.summary()
    return found


def _click_node(page: Page, object_id: str) -> None:
    graph = page.locator("#graph")
    graph.scroll_into_view_if_needed()
    # Where the node is drawn once it has stopped moving: the layout settles (and the view
    # fits) just after the graph is shown, and a click where the node was a moment ago
    # misses it on a fast machine.
    where = None
    for _ in range(50):
        now = page.evaluate(
            "(id) => AccordGraph.instance.getElementById(id).renderedPosition()", object_id
        )
        if now == where:
            break
        where = now
        page.wait_for_timeout(100)
    assert where is not None
    box = graph.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + where["x"], box["y"] + where["y"])


def test_the_graph_renders_and_a_click_expands_a_node(
    analyst_page: Page, live_node: LiveNode, outside_requests: list[str]
) -> None:
    seeded = _seed(live_node)
    page = analyst_page
    page.goto(f"/objects/{seeded['indicator']['id']}")
    graph = page.locator("#graph")
    expect(graph).to_be_visible()
    expect(graph).to_have_attribute("data-nodes", "2")  # the indicator and its malware
    assert page.locator("#graph canvas").count() > 0
    _click_node(page, seeded["malware"]["id"])
    expect(graph).to_have_attribute("data-nodes", "4")  # and the technique and the actor
    classes = page.evaluate(
        "(id) => AccordGraph.instance.getElementById(id).classes()", seeded["malware"]["id"]
    )
    assert "expanded" in classes
    # A second click opens the expanded object's page.
    with page.expect_navigation():
        _click_node(page, seeded["malware"]["id"])
    assert page.url.endswith(f"/objects/{seeded['malware']['id']}")
    assert outside_requests == []


def test_the_object_page_and_its_diff_are_accessible(
    analyst_page: Page, live_node: LiveNode
) -> None:
    seeded = _seed(live_node)
    page = analyst_page
    page.goto(f"/objects/{seeded['indicator']['id']}")
    expect(page.locator("#graph")).to_have_attribute("data-nodes", "2")
    assert_accessible(page)
    page.goto(f"/objects/{seeded['indicator']['id']}/diff")
    expect(page.locator("table.diff")).to_be_visible()
    assert_accessible(page)
