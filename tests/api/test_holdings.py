"""Issue 14, items 2, 3 and 5(c), through the REST API and TAXII on SQLite and PostgreSQL:

- only the organisation that created an object stores new versions of it; others are refused
  per object, with a reason, and the refusal is audited;
- a deterministic id (an SCO) held by another organisation is no "duplicate": each
  organisation's holding is its own, with its own audience;
- an object answers with the newest version the caller may see (REST and TAXII alike).
"""

from __future__ import annotations

from typing import Any

import pytest

from accord.client import AccordError
from accord.model.tlp import Tlp
from accord.taxii.collections import DEFAULT_ID
from api.conftest import Api

INDICATOR = "indicator--5a0c1e2d-0000-4000-8000-00000000a001"
ADDRESS = "ipv4-addr--ff6d2d4b-7b8e-5a56-9f1a-3d0c2e7d9b01"  # as if UUIDv5 of the value
FIRST = "2026-05-01T00:00:00.000Z"
SECOND = "2026-05-02T00:00:00.000Z"


def _indicator(modified: str, tlp: Tlp, name: str = "C2", **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR,
        "created": FIRST,
        "modified": modified,
        "name": name,
        "pattern": "[ipv4-addr:value = '203.0.113.77']",
        "pattern_type": "stix",
        "valid_from": FIRST,
        "object_marking_refs": [tlp.marking_id],
        **extra,
    }


def _bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--5a0c1e2d-0000-4000-8000-00000000b001",
        "objects": list(objects),
    }


def _address(tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": ADDRESS,
        "value": "203.0.113.77",
        "object_marking_refs": [tlp.marking_id],
    }


@pytest.mark.parametrize("tlp", [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER])
def test_another_organisation_may_not_version_an_object(api: Api, tlp: Tlp) -> None:
    analyst = api.client("analyst@cert.example")
    recipients = ["Police Cyber Unit"] if tlp == Tlp.AMBER else []
    analyst.ingest(_bundle(_indicator(FIRST, tlp)), recipients=recipients)
    police = api.client("investigator@police.example")
    assert police.get(INDICATOR)["name"] == "C2"  # it may see it, so it knows the id

    # Re-posted newer at RED (hiding it from everyone) and at CLEAR (leaking it): refused.
    for level in (Tlp.RED, Tlp.CLEAR):
        rewrite = _bundle(_indicator(SECOND, level, name="rewritten"))
        with pytest.raises(AccordError) as refused:
            police.ingest(rewrite)
        assert refused.value.status == 422
        assert "only the organisation that created" in refused.value.detail
        result = police.ingest(rewrite, partial=True)
        assert result["stored"] == 0 and result["rejected"] == 1

    # Nothing changed, for the creator and for everyone who could see it.
    for email in ("analyst@cert.example", "investigator@police.example"):
        seen = api.client(email).get(INDICATOR)
        assert seen["modified"] == FIRST and seen["name"] == "C2"
        assert [v["modified"] for v in api.client(email).versions(INDICATOR)] == [FIRST]
    if tlp != Tlp.AMBER:
        assert api.client("soc@water.example").get(INDICATOR)["name"] == "C2"

    # The creator still versions its own object.
    analyst.ingest(_bundle(_indicator(SECOND, tlp, name="C2, updated")), recipients=recipients)
    assert police.get(INDICATOR)["name"] == "C2, updated"

    # The refusals are evidence.
    refusals = [
        e for e in api.client("admin@node.example").audit() if e["action"] == "refused-version"
    ]
    assert refusals and all(e["target"] == INDICATOR for e in refusals)
    assert {e["org_id"] for e in refusals} == {api.community.police.id}


def test_a_hidden_object_is_no_obstacle_and_no_oracle(api: Api) -> None:
    """Versioning an id whose holdings the caller cannot see is answered as for a new id."""
    api.client("analyst@cert.example").ingest(_bundle(_indicator(FIRST, Tlp.RED)))
    water = api.client("soc@water.example")
    # The water utility's sensor may not write; its org-admin may.
    boss = api.client("boss@water.example")
    hidden = boss.ingest(_bundle(_indicator(SECOND, Tlp.GREEN, name="ours")))
    fresh = boss.ingest(_bundle({**_indicator(SECOND, Tlp.GREEN), "id": INDICATOR[:-4] + "a999"}))
    assert (
        (hidden["stored"], hidden["duplicates"]) == (fresh["stored"], fresh["duplicates"]) == (1, 0)
    )
    assert water.get(INDICATOR)["name"] == "ours"
    # The creator's RED holding is untouched, for its creator.
    mine = api.client("analyst@cert.example").get(INDICATOR)
    assert mine["name"] == "ours"  # newest visible: the water utility's GREEN one
    versions = api.client("analyst@cert.example").versions(INDICATOR)
    assert sorted(v["name"] for v in versions) == ["C2", "ours"]


def test_a_deterministic_id_held_by_another_is_not_a_duplicate(api: Api) -> None:
    cert = api.client("analyst@cert.example")
    assert cert.ingest(_bundle(_address(Tlp.RED)))["stored"] == 1
    police = api.client("investigator@police.example")
    stored = police.ingest(_bundle(_address(Tlp.GREEN)))
    assert (stored["stored"], stored["duplicates"]) == (1, 0)  # as for an address nobody holds
    # The police's GREEN share reaches the community; CERT's RED one stays with its creator.
    assert api.client("soc@water.example").get(ADDRESS)["object_marking_refs"] == [
        Tlp.GREEN.marking_id
    ]
    again = police.ingest(_bundle(_address(Tlp.GREEN)))
    assert (again["stored"], again["duplicates"]) == (0, 1)  # its own holding: a duplicate
    assert cert.ingest(_bundle(_address(Tlp.RED)))["duplicates"] == 1


def test_marking_definitions_in_a_bundle_stay_duplicates(api: Api) -> None:
    definition = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": Tlp.GREEN.marking_id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:GREEN",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "green",
            }
        },
    }
    result = api.client("analyst@cert.example").ingest(_bundle(definition))
    assert (result["stored"], result["duplicates"]) == (0, 1)


def test_an_object_answers_with_the_newest_version_the_caller_may_see(api: Api) -> None:
    analyst = api.client("analyst@cert.example")
    analyst.ingest(_bundle(_indicator(FIRST, Tlp.GREEN)))
    analyst.ingest(_bundle(_indicator(SECOND, Tlp.RED, name="narrowed")))
    water = api.client("soc@water.example")
    assert [v["modified"] for v in water.versions(INDICATOR)] == [FIRST]
    assert water.get(INDICATOR)["modified"] == FIRST  # not 404 while /versions answers
    assert analyst.get(INDICATOR)["name"] == "narrowed"
    # TAXII: the object endpoint agrees.
    key = api.keys["soc@water.example"]
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/taxii+json;version=2.1"}
    base = f"/taxii2/accord/collections/{DEFAULT_ID}/objects/"
    found = api.http.get(f"{base}{INDICATOR}/", headers=headers)
    assert found.status_code == 200
    assert [o["modified"] for o in found.json()["objects"]] == [FIRST]
    hidden = api.http.get(f"{base}{INDICATOR[:-4]}ffff/", headers=headers)
    assert hidden.status_code == 404
