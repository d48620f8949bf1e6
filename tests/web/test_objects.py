"""The object page: each type's fields from real data (the OASIS example bundles and MITRE
ATT&CK from the shared data, the demo node's intelligence), versions and their diff, the
graph's JSON, raw JSON, the read audit, and text shown as text."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from markupsafe import escape
from object_seed import CREATED, indicator, ingest, seed_neighbourhood
from portal_support import PASSWORD, Portal

from accord.cli.demo import run_demo
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.objects import ObjectQuery

OASIS = "stix21/oasis-cti-documentation-examples"
ENTERPRISE = "attack/enterprise-attack-18.1.rebuilt-stix21.json"


def _load_file(portal: Portal, path: Path) -> list[dict[str, Any]]:
    report = Ingester(portal.store, portal.community.analyst).ingest_file(
        path, IngestOptions(tlp=Tlp.GREEN, partial=True)
    )
    assert report.count("stored") > 0, report.summary()
    objects = orjson.loads(path.read_bytes())["objects"]
    return [o for o in objects if isinstance(o, dict)]


def _escaped(text: str) -> str:
    return str(escape(text))


def _by_type(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(o for o in objects if o["type"] == kind)


def test_pages_need_a_session(portal: Portal) -> None:
    http = portal.client()
    for suffix in ("", "/graph.json", "/raw", ".json", "/diff"):
        answer = http.get(f"/objects/indicator--1{suffix}", follow_redirects=False)
        assert answer.status_code == 303, suffix
        assert answer.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    "bundle",
    [
        "apt1.json",
        "poisonivy.json",
        "sighting-of-an-indicator.json",
        "sighting-of-observed-data.json",
        "threat-actor-leveraging-attack-patterns-and-malware.json",
        "identifying-a-threat-actor-profile.json",
        "defining-campaigns-threat-actors-intrusion-sets.json",
        "indicator-for-malicious-url.json",
        "malware-indicator-for-file-hash.json",
    ],
)
def test_every_object_of_the_oasis_examples_has_its_page(
    portal: Portal, shared_data: Path, bundle: str
) -> None:
    objects = _load_file(portal, shared_data / OASIS / bundle)
    analyst = portal.sign_in(portal.emails["analyst"])
    # Every object but the relationships (a few of those: they are all alike).
    relationships = [o for o in objects if o["type"] == "relationship"]
    for obj in [o for o in objects if o["type"] != "relationship"] + relationships[:5]:
        page = analyst.http.get(f"/objects/{obj['id']}")
        assert page.status_code == 200, (obj["id"], page.text[:500])
        assert obj["id"] in page.text
        assert 'class="tlp tlp-banner tlp-green"' in page.text
        if isinstance(obj.get("name"), str):
            assert _escaped(obj["name"]) in page.text
    for obj in objects[:5]:
        assert analyst.http.get(f"/objects/{obj['id']}/graph.json").status_code == 200


def test_a_report_lists_its_objects_with_their_tlp(portal: Portal, shared_data: Path) -> None:
    objects = _load_file(portal, shared_data / OASIS / "apt1.json")
    report = _by_type(objects, "report")
    page = portal.sign_in(portal.emails["analyst"]).http.get(f"/objects/{report['id']}").text
    section = page.split("Objects in this report")[1].split("</ul>")[0]
    listed = re.findall(r'href="/objects/([^"]+)"', section)
    assert listed and set(listed) <= set(report["object_refs"])
    assert section.count('class="tlp tlp-green"') == len(listed)
    assert f"{len(listed)} objects that you may see" in page


def test_each_type_shows_its_own_fields(portal: Portal, shared_data: Path) -> None:
    objects: list[dict[str, Any]] = []
    for bundle in (
        "apt1.json",
        "poisonivy.json",
        "sighting-of-observed-data.json",
        "indicator-for-malicious-url.json",
        "defining-campaigns-threat-actors-intrusion-sets.json",
    ):
        objects += _load_file(portal, shared_data / OASIS / bundle)
    analyst = portal.sign_in(portal.emails["analyst"])

    def page_of(kind: str, has: str = "") -> tuple[dict[str, Any], str]:
        obj = next(o for o in objects if o["type"] == kind and has in orjson.dumps(o).decode())
        return obj, analyst.http.get(f"/objects/{obj['id']}").text

    obj, page = page_of("indicator", "[url:value")
    assert '<span class="pt-path">url</span>' in page  # the pattern, coloured
    assert '<span class="pt-operator">=</span>' in page
    assert "Validity" in page and "Score" in page
    obj, page = page_of("intrusion-set")
    assert "Also known as" in page and _escaped(obj["aliases"][0]) in page
    obj, page = page_of("threat-actor")
    assert "Threat actor types" in page
    obj, page = page_of("campaign")
    assert "Campaign" in page
    obj, page = page_of("malware")
    assert "Malware types" in page or "a malware family" in page
    obj, page = page_of("identity")
    assert "Class" in page and obj["identity_class"] in page
    obj, page = page_of("sighting")
    assert "Sighting of" in page and "Oscorp Industries" in page  # where sighted, visible
    obj, page = page_of("observed-data")
    assert "Observed objects" in page and "resume.pdf" in page
    obj, page = page_of("file")
    assert "1717b7fff97d37a1e1a0029d83492de1" in page and "Look it up" in page
    obj, page = page_of("relationship")
    assert "From" in page and "To" in page and obj["relationship_type"] in page
    obj, page = page_of("vulnerability")
    assert obj["external_references"][0]["external_id"] in page


def test_an_attack_pattern_links_its_attack_id(portal: Portal, shared_data: Path) -> None:
    everything = orjson.loads((shared_data / ENTERPRISE).read_bytes())["objects"]

    def attack_id(o: dict[str, Any]) -> str | None:
        for ref in o.get("external_references") or ():
            if ref.get("source_name") == "mitre-attack":
                return str(ref.get("external_id"))
        return None

    web = next(o for o in everything if attack_id(o) == "T1071.001")
    parent = next(o for o in everything if attack_id(o) == "T1071")
    touching = [
        o
        for o in everything
        if o["type"] == "relationship" and web["id"] in (o["source_ref"], o["target_ref"])
    ]
    rels = [o for o in touching if o["relationship_type"] == "subtechnique-of"] + touching[:20]
    ends = {r["source_ref"] for r in rels} | {r["target_ref"] for r in rels}
    chosen = [o for o in everything if o["id"] in ends or o["id"] == parent["id"]]
    chosen += [o for o in everything if o["type"] in ("identity", "marking-definition")]
    report = Ingester(portal.store, portal.community.analyst).ingest_bytes(
        orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": chosen + rels}),
        "attack",
        IngestOptions(tlp=Tlp.CLEAR, partial=True),
    )
    assert report.count("stored") >= len(rels), report.summary()
    analyst = portal.sign_in(portal.emails["analyst"])
    page = analyst.http.get(f"/objects/{web['id']}").text
    assert 'href="https://attack.mitre.org/techniques/T1071/001"' in page
    assert ">T1071.001</a>" in page
    assert "command-and-control" in page  # its tactic, from kill_chain_phases
    assert "The MITRE Corporation" in page  # created_by_ref, a visible identity
    assert "subtechnique-of" in page and "Application Layer Protocol" in page
    graph = orjson.loads(analyst.http.get(f"/objects/{web['id']}/graph.json").content)
    node_ids = {node["data"]["id"] for node in graph["nodes"]}
    assert parent["id"] in node_ids
    assert {r["source_ref"] for r in rels if r["target_ref"] == web["id"]} <= node_ids
    for edge in graph["edges"]:
        assert edge["data"]["source"] in node_ids and edge["data"]["target"] in node_ids


def test_the_demo_node_pages(portal: Portal) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        run_demo(portal.store, json=True, attack=False)
    analyst = portal.store.directory.user("analyst@cert.nordland.example")
    portal.store.credentials.set_password(analyst.id, PASSWORD)
    browsing = portal.sign_in(analyst.email)
    viewer = portal.store.directory.viewer(analyst)
    seen = portal.store.objects.query(viewer, ObjectQuery(limit=1000))
    assert len(seen) > 10
    for obj in seen:
        assert browsing.http.get(f"/objects/{obj.id}").status_code == 200, obj.id
    c2 = next(o for o in seen if o.json().get("name") == "GhostPump C2 address")
    page = browsing.http.get(f"/objects/{c2.id}").text
    assert "tlp-banner tlp-green" in page
    assert "Score (ipv4)" in page and "valid now" in page
    assert "GhostPump loader" in page  # what it indicates
    assert "CERT-Nordland" in page  # shared by the reader's own organisation


def test_versions_and_their_diff(portal: Portal) -> None:
    first = indicator("Loader C2", Tlp.GREEN, description="line one\nline two")
    second = {
        **first,
        "modified": "2026-03-02T10:00:00.000Z",
        "name": "Loader C2 (confirmed)",
        "confidence": 95,
        "labels": ["confirmed"],
        "description": "line one\nline 2",
    }
    ingest(portal.store, portal.community.analyst, [first])
    ingest(portal.store, portal.community.analyst, [second])
    analyst = portal.sign_in(portal.emails["analyst"])
    page = analyst.http.get(f"/objects/{first['id']}").text
    assert "Loader C2 (confirmed)" in page  # the newest version
    assert page.count('<time datetime="2026-03-0') >= 2  # both versions listed
    assert f'action="/objects/{first["id"]}/diff"' in page
    diff = analyst.http.get(f"/objects/{first['id']}/diff")  # unasked: the last two
    assert diff.status_code == 200
    text = diff.text
    for name in ("name", "confidence", "labels", "description", "modified"):
        assert f"<code>{name}</code>" in text, name
    assert '<span class="diff-old">− Loader C2</span>' in text
    assert '<span class="diff-new">+ Loader C2 (confirmed)</span>' in text
    assert '<span class="diff-same">  line one</span>' in text  # a text diffed by line
    assert '<span class="diff-new">+ line 2</span>' in text
    assert "Unchanged: " in text and "pattern" in text.split("Unchanged: ")[1]
    # Asked with timestamps written another way; the same version on both sides.
    same = analyst.http.get(
        f"/objects/{first['id']}/diff",
        params={"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T10:00:00.000000Z"},
    )
    assert same.status_code == 200 and "The two versions are the same." in same.text
    bad = analyst.http.get(f"/objects/{first['id']}/diff", params={"from": "yesterday"})
    assert bad.status_code == 404


def test_raw_json_is_the_object_as_stored(portal: Portal) -> None:
    obj = indicator("Raw one", Tlp.GREEN)
    ingest(portal.store, portal.community.analyst, [obj])
    analyst = portal.sign_in(portal.emails["analyst"])
    viewer = portal.store.directory.viewer(portal.community.analyst)
    stored = portal.store.objects.get(viewer, obj["id"])
    assert stored is not None
    shown = analyst.http.get(f"/objects/{obj['id']}.json")
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "application/json"
    assert shown.text == stored.raw
    download = analyst.http.get(f"/objects/{obj['id']}/raw")
    assert download.text == stored.raw
    assert download.headers["content-disposition"] == f'attachment; filename="{obj["id"]}.json"'
    assert download.headers["cache-control"] == "no-store"


def test_text_is_shown_as_text(portal: Portal) -> None:
    obj = indicator(
        "<b>bold</b> name",
        Tlp.GREEN,
        description='<script>alert("x")</script><img src=x onerror=alert(1)>',
        external_references=[
            {"source_name": "evil", "url": "javascript:alert(1)", "external_id": "E-1"},
            {"source_name": "good", "url": "https://example.org/r", "external_id": "G-1"},
        ],
    )
    ingest(portal.store, portal.community.analyst, [obj])
    page = portal.sign_in(portal.emails["analyst"]).http.get(f"/objects/{obj['id']}").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt; name" in page
    assert 'href="javascript:' not in page  # shown, not linked
    assert 'href="https://example.org/r"' in page


def test_reads_are_audited_as_the_api_does(portal: Portal) -> None:
    seeded = seed_neighbourhood(portal.store, portal.community)
    malware = next(o for o in seeded.hidden if o["type"] == "malware")
    investigator = portal.sign_in(portal.emails["investigator"])
    before = len(portal.store.audit.entries(action="read"))
    for suffix in ("", "/graph.json", ".json"):
        assert investigator.http.get(f"/objects/{malware['id']}{suffix}").status_code == 200
    entries = portal.store.audit.entries(action="read")[before:]
    vias = [entry.detail["via"] for entry in entries]
    assert vias == [
        "portal GET /objects/{id}",
        "portal GET /objects/{id}/graph.json",
        "portal GET /objects/{id}/raw",
    ]
    for entry in entries:
        assert malware["id"] in entry.detail["ids"]
        assert entry.user_id == portal.community.investigator.id
    # A GREEN object with only GREEN neighbours: nothing to record.
    green = indicator("Plain green", Tlp.GREEN, value="198.51.100.201")
    ingest(portal.store, portal.community.analyst, [green])
    before = len(portal.store.audit.entries(action="read"))
    investigator.http.get(f"/objects/{green['id']}")
    assert len(portal.store.audit.entries(action="read")) == before


def test_graph_json_expands_node_by_node(portal: Portal) -> None:
    seeded = seed_neighbourhood(portal.store, portal.community)
    investigator = portal.sign_in(portal.emails["investigator"])
    first = orjson.loads(
        investigator.http.get(f"/objects/{seeded.visible['id']}/graph.json").content
    )
    assert first["center"] == seeded.visible["id"]
    nodes = {node["data"]["id"]: node["data"] for node in first["nodes"]}
    assert nodes[seeded.visible["id"]]["center"] is True
    malware = next(o for o in seeded.hidden if o["name"] == "Hidden Amber Malware")
    assert nodes[malware["id"]] == {
        "id": malware["id"],
        "type": "malware",
        "name": "Hidden Amber Malware",
        "tlp": "TLP:AMBER",
        "center": False,
    }
    labels = {
        (e["data"]["source"], e["data"]["label"], e["data"]["target"]) for e in first["edges"]
    }
    assert (seeded.visible["id"], "indicates", malware["id"]) in labels
    # Expanding the malware: the report that contains it too, and the indicator again.
    second = orjson.loads(investigator.http.get(f"/objects/{malware['id']}/graph.json").content)
    report = next(o for o in seeded.hidden if o["type"] == "report")
    assert {seeded.visible["id"], report["id"]} <= {n["data"]["id"] for n in second["nodes"]}


def test_an_amber_object_shows_to_its_recipients(portal: Portal) -> None:
    obj = indicator("For the police", Tlp.AMBER, value="198.51.100.202")
    police = Recipients(org_ids=frozenset({portal.community.police.id}))
    ingest(portal.store, portal.community.analyst, [obj], police)
    page = portal.sign_in(portal.emails["investigator"]).http.get(f"/objects/{obj['id']}")
    assert page.status_code == 200
    assert 'class="tlp tlp-banner tlp-amber"' in page.text
    assert "on a need-to-know basis" in page.text
    assert "CERT-EX" in page.text  # shared by
    assert CREATED[:4] in page.text
