"""Files on the ingest page: STIX bundles (whole or not at all, with the table of objects),
MISP events and IOC lists, stored through the paths their commands take, and audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from ingest_support import upload
from portal_support import Browsing, Portal

from accord.model.tlp import Tlp
from accord.store.objects import ObjectQuery

GOOD = "indicator--6b1d4f4c-0e1b-4c3e-9a8c-2f0c1d5e7a11"
BAD = "indicator--6b1d4f4c-0e1b-4c3e-9a8c-2f0c1d5e7a12"


def _indicator(object_id: str, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id,
        "created": "2026-01-02T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "name": "uploaded",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-02T00:00:00Z",
    }


def _bundle(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"type": "bundle", "id": "bundle--6b1d4f4c-0e1b-4c3e-9a8c-2f0c1d5e7a10", "objects": objects}
    )


@pytest.fixture
def analyst(portal: Portal) -> Browsing:
    return portal.sign_in(portal.emails["analyst"])


def test_a_bundle_is_stored_then_already_known(portal: Portal, analyst: Browsing) -> None:
    data = _bundle(_indicator(GOOD, "[ipv4-addr:value = '45.77.120.9']"))
    police = portal.community.police.id
    answer = upload(
        analyst, "/ingest/file", "b.json", data, kind="stix", tlp="amber", recipient=police
    )
    assert answer.status_code == 200, answer.text
    assert GOOD in answer.text and ">stored<" in answer.text
    investigator = portal.store.directory.viewer(portal.community.investigator)
    operator = portal.store.directory.viewer(portal.community.operator)
    stored = portal.store.objects.get(investigator, GOOD)
    assert stored is not None and stored.tlp == Tlp.AMBER
    assert portal.store.objects.get(operator, GOOD) is None
    again = upload(analyst, "/ingest/file", "b.json", data, kind="stix")
    assert again.status_code == 200 and ">already known<" in again.text
    entry = portal.store.audit.entries(action="write")[-1]
    assert entry.detail["via"] == "portal ingest stix" and entry.detail["duplicates"] == 1


def test_a_bundle_with_a_bad_object_is_refused_whole(portal: Portal, analyst: Browsing) -> None:
    data = _bundle(
        _indicator(GOOD, "[ipv4-addr:value = '45.77.120.9']"),
        _indicator(BAD, "[ipv4-addr:value = "),
    )
    answer = upload(analyst, "/ingest/file", "mixed.json", data, kind="stix")
    assert answer.status_code == 422
    assert "Nothing was stored" in answer.text
    row = answer.text[answer.text.index(BAD) - 300 :]
    assert '<td data-value="1">1</td>' in row and ">rejected<" in row and "pattern" in row
    assert ">not stored<" in answer.text
    viewer = portal.store.directory.viewer(portal.community.analyst)
    assert portal.store.objects.get(viewer, GOOD) is None  # not half of it either
    entry = portal.store.audit.entries(action="write")[-1]
    assert entry.detail["rejected"] == 1 and entry.detail["stored"] == 0


def test_a_misp_event(portal: Portal, analyst: Browsing) -> None:
    event = {
        "Event": {
            "uuid": "5f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
            "info": "Phishing wave",
            "date": "2026-01-02",
            "timestamp": "1767312000",
            "distribution": "1",
            "threat_level_id": "2",
            "analysis": "1",
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {
                    "uuid": "5f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4c",
                    "type": "domain",
                    "category": "Network activity",
                    "to_ids": True,
                    "value": "phish-login-portal.net",
                    "timestamp": "1767312000",
                }
            ],
        }
    }
    answer = upload(analyst, "/ingest/file", "event.json", orjson.dumps(event), kind="misp")
    assert answer.status_code == 200, answer.text
    assert "5f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b" in answer.text and ">stored<" in answer.text
    entry = portal.store.audit.entries(action="write")[-1]
    assert entry.detail["via"] == "portal ingest misp"
    assert entry.detail["events"] == ["5f2a1b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"]


def test_a_real_eset_misp_export(portal: Portal, analyst: Browsing, shared_data: Path) -> None:
    path = shared_data / "eset-malware-ioc" / "stantinko" / "stantinko.misp-event.json"
    if not path.is_file():
        pytest.skip(f"{path} is not in the shared data")
    answer = upload(analyst, "/ingest/file", path.name, path.read_bytes(), kind="misp")
    assert answer.status_code == 200, answer.text
    assert ">stored<" in answer.text


def test_an_ioc_list_with_a_bad_line(portal: Portal, analyst: Browsing) -> None:
    listed = b"value,comment\n45.77.120.9,C2\nnot a value,x\nevil-shop.net,phishing\n"
    answer = upload(analyst, "/ingest/file", "iocs.csv", listed, kind="list", tlp="green")
    assert answer.status_code == 422, answer.text  # a bad line: the good ones are stored
    assert "The good lines were stored" in answer.text
    assert "not a value" in answer.text and "<td>3</td>" in answer.text
    operator = portal.store.directory.viewer(portal.community.operator)
    names = {
        orjson.loads(o.raw)["name"]
        for o in portal.store.objects.query(operator, ObjectQuery(types=["indicator"]))
    }
    assert names == {"45.77.120.9", "evil-shop.net"}
    entry = portal.store.audit.entries(action="write")[-1]
    assert entry.detail["via"] == "portal ingest list" and entry.detail["stored"] == 2
