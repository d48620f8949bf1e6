"""The REST API through the Python client: ingest, objects, look-up verdicts, sightings,
administration, audit, and errors as RFC 9457 problems."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.client import AccordError
from accord.model.tlp import Tlp

MALWARE = "malware--1d2e3f40-0000-4000-8000-000000000001"
ACTOR = "intrusion-set--1d2e3f40-0000-4000-8000-000000000002"
TECHNIQUE = "attack-pattern--1d2e3f40-0000-4000-8000-000000000003"
INDICATOR = "indicator--1d2e3f40-0000-4000-8000-000000000004"
CREATED = "2026-03-01T00:00:00.000Z"


def _common(kind: str, object_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": object_id,
        "created": CREATED,
        "modified": CREATED,
        **extra,
    }


def campaign_bundle(tlp: Tlp = Tlp.GREEN) -> dict[str, Any]:
    marking = {"object_marking_refs": [tlp.marking_id]}
    return {
        "type": "bundle",
        "id": "bundle--1d2e3f40-0000-4000-8000-0000000000ff",
        "objects": [
            _common("malware", MALWARE, name="GhostPump", is_family=True, **marking),
            _common("intrusion-set", ACTOR, name="Silent Heron", **marking),
            _common(
                "attack-pattern",
                TECHNIQUE,
                name="Application Layer Protocol",
                external_references=[{"source_name": "mitre-attack", "external_id": "T1071"}],
                **marking,
            ),
            _common(
                "indicator",
                INDICATOR,
                name="GhostPump C2",
                pattern="[ipv4-addr:value = '198.51.100.23'] OR [domain-name:value = 'c2.example.net']",
                pattern_type="stix",
                valid_from=CREATED,
                confidence=90,
                **marking,
            ),
            _common(
                "relationship",
                "relationship--1d2e3f40-0000-4000-8000-000000000005",
                relationship_type="indicates",
                source_ref=INDICATOR,
                target_ref=MALWARE,
                **marking,
            ),
            _common(
                "relationship",
                "relationship--1d2e3f40-0000-4000-8000-000000000006",
                relationship_type="uses",
                source_ref=ACTOR,
                target_ref=MALWARE,
                **marking,
            ),
            _common(
                "relationship",
                "relationship--1d2e3f40-0000-4000-8000-000000000007",
                relationship_type="indicates",
                source_ref=INDICATOR,
                target_ref=ACTOR,
                **marking,
            ),
            _common(
                "relationship",
                "relationship--1d2e3f40-0000-4000-8000-000000000008",
                relationship_type="uses",
                source_ref=MALWARE,
                target_ref=TECHNIQUE,
                **marking,
            ),
        ],
    }


def test_ingest_and_read_back(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    result = cert.ingest(campaign_bundle())
    assert result["stored"] == 8 and result["rejected"] == 0
    assert {o["status"] for o in result["objects"]} == {"stored"}
    again = cert.ingest(campaign_bundle())
    assert again["duplicates"] == 8
    water = api.client("soc@water.example")
    assert water.get(INDICATOR)["confidence"] == 90
    assert [o["id"] for o in water.objects(types=["malware"])] == [MALWARE]
    assert water.versions(INDICATOR)[0]["id"] == INDICATOR
    creator = list(water.objects(creator="CERT-EX", types=["indicator"]))
    assert [o["id"] for o in creator] == [INDICATOR]
    assert list(water.objects(creator="Water Utility")) == []
    assert list(water.objects(modified_since="2026-03-02T00:00:00Z", types=["indicator"])) == []


def test_lookup_verdict_with_context(api) -> None:  # type: ignore[no-untyped-def]
    api.client("analyst@cert.example").ingest(campaign_bundle())
    police = api.client("investigator@police.example")
    answer = police.lookup("198.51.100.23")
    assert answer["verdict"] == "malicious" and answer["score"] >= 70
    assert answer["type"] == "ipv4" and answer["value"] == "198.51.100.23"
    [reason] = answer["reasons"]
    assert (
        reason["id"] == INDICATOR and reason["relation"] == "exact" and reason["tlp"] == "TLP:GREEN"
    )
    related = {r["id"]: r for r in answer["related"]}
    assert (
        related[MALWARE]["relationship"] == "indicates" and related[MALWARE]["name"] == "GhostPump"
    )
    assert related[ACTOR]["type"] == "intrusion-set"
    assert answer["first_seen"] == CREATED and answer["reporting_organisations"] == 1
    # a subdomain through its parent, defanged on the way in
    sub = police.lookup("hxxp://www[.]c2[.]example[.]net/gate.php")
    assert sub["verdict"] in ("malicious", "suspicious")
    assert {r["relation"] for r in sub["reasons"]} == {"parent-domain"}
    assert police.lookup("203.0.113.1")["verdict"] == "unknown"
    bulk = police.lookup_many(["203.0.113.1", "198.51.100.23", "c2.example.net"])
    assert [a["verdict"] for a in bulk] == ["unknown", "malicious", "malicious"]


def test_revoked_and_expired_indicators(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    cert.ingest(campaign_bundle())
    revoked = campaign_bundle()["objects"][3] | {
        "modified": "2026-04-01T00:00:00.000Z",
        "revoked": True,
    }
    cert.ingest([revoked])
    answer = cert.lookup("198.51.100.23")
    assert answer["verdict"] == "unknown" and answer["reasons"][0]["revoked"] is True
    expired = _common(
        "indicator",
        "indicator--1d2e3f40-0000-4000-8000-000000000009",
        pattern="[ipv4-addr:value = '198.51.100.99']",
        pattern_type="stix",
        valid_from="2020-01-01T00:00:00Z",
        valid_until="2020-06-01T00:00:00Z",
        confidence=100,
        object_marking_refs=[Tlp.GREEN.marking_id],
    )
    cert.ingest([expired])
    answer = cert.lookup("198.51.100.99")
    assert answer["reasons"][0]["expired"] is True and answer["verdict"] == "suspicious"


def test_sightings(api) -> None:  # type: ignore[no-untyped-def]
    api.client("analyst@cert.example").ingest(campaign_bundle())
    water = api.client("soc@water.example")  # a sensor
    made = water.sight(
        value="198.51.100.23",
        count=12,
        first_seen="2026-05-01T00:00:00Z",
        last_seen="2026-05-02T00:00:00Z",
        tlp="green",
    )
    assert made["sighted"] == [INDICATOR]
    answer = api.client("investigator@police.example").lookup("198.51.100.23")
    assert answer["sightings"] == 12 and answer["reporting_organisations"] == 2
    assert answer["last_seen"] == "2026-05-02T00:00:00Z"
    # a value nobody knows: an indicator of the sensor's own, with confidence 0
    fresh = water.sight(value="192.0.2.77", tlp="amber")
    assert len(fresh["sighted"]) == 1
    mine = water.lookup("192.0.2.77")
    assert mine["verdict"] == "unknown" and mine["sightings"] == 1
    assert api.client("investigator@police.example").lookup("192.0.2.77")["reasons"] == []
    with pytest.raises(AccordError) as caught:
        water.sight(indicator="indicator--00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404
    with pytest.raises(AccordError) as caught:
        water.sight(
            value="192.0.2.1", first_seen="2026-05-02T00:00:00Z", last_seen="2026-05-01T00:00:00Z"
        )
    assert caught.value.status == 422


def test_bad_bundles_are_problems_and_store_nothing(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    bundle = campaign_bundle()
    bundle["objects"][3] = bundle["objects"][3] | {"valid_from": "tomorrow"}
    with pytest.raises(AccordError) as caught:
        cert.ingest(bundle)
    assert caught.value.status == 422
    assert "/objects/3/valid_from" in caught.value.pointers
    assert caught.value.problem["result"]["stored"] == 0
    with pytest.raises(AccordError):
        cert.get(MALWARE)
    partial = cert.ingest(bundle, partial=True)
    assert partial["stored"] == 7 and partial["rejected"] == 1
    response = cert.http.post(
        "/api/v1/bundles",
        content=b'{"type": "bundle", "objects": [1,]}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "line 1" in response.json()["detail"]
    assert "Traceback" not in response.text


def test_roles_and_authentication(api) -> None:  # type: ignore[no-untyped-def]
    reader = api.client("reader@police.example")
    with pytest.raises(AccordError) as caught:
        reader.ingest(campaign_bundle())
    assert caught.value.status == 403
    bad = api.http.get("/api/v1/objects", headers={"Authorization": "Bearer acc_nope_nope"})
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"
    assert api.http.get("/api/v1/objects").status_code == 401
    # HTTP Basic with the e-mail and the key as password (what TAXII clients send)
    key = api.keys["soc@water.example"]
    ok = api.http.get("/api/v1/objects", auth=("soc@water.example", key))
    assert ok.status_code == 200
    wrong_user = api.http.get("/api/v1/objects", auth=("analyst@cert.example", key))
    assert wrong_user.status_code == 401


def test_admin_users_and_keys(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.client("admin@node.example")
    org = admin.http.post(
        "/api/v1/organisations",
        json={"name": "Rail Operator", "sector": "transport", "country": "EX"},
    )
    assert org.status_code == 201
    assert (
        admin.http.post("/api/v1/organisations", json={"name": "Rail Operator"}).status_code == 409
    )
    boss = api.client("boss@water.example")  # org-admin of the water utility
    made = boss.http.post(
        "/api/v1/users",
        json={"email": "night@water.example", "organisation": "Water Utility", "role": "sensor"},
    )
    assert made.status_code == 201 and made.json()["api_key"].startswith("acc_")
    refused = boss.http.post(
        "/api/v1/users", json={"email": "x@rail.example", "organisation": "Rail Operator"}
    )
    assert refused.status_code == 403
    assert (
        api.client("soc@water.example")
        .http.post("/api/v1/organisations", json={"name": "X"})
        .status_code
        == 403
    )
    new_key = made.json()["api_key"]
    night = api.client("soc@water.example")
    night.http.headers["Authorization"] = f"Bearer {new_key}"
    assert night.http.get("/api/v1/objects").status_code == 200
    key_id = new_key.split("_")[1]
    assert boss.http.delete(f"/api/v1/keys/{key_id}").status_code == 204
    assert night.http.get("/api/v1/objects").status_code == 401
    users = boss.http.get("/api/v1/users").json()
    assert {u["email"] for u in users} == {
        "soc@water.example",
        "boss@water.example",
        "night@water.example",
    }


def test_audit_records_lookups_reads_writes_and_admin(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    cert.ingest(campaign_bundle(Tlp.AMBER))
    cert.lookup("198.51.100.23")
    cert.get(INDICATOR)
    api.client("soc@water.example").lookup("198.51.100.23")
    entries = api.client("admin@node.example").audit()
    actions = [e["action"] for e in entries]
    assert actions.count("lookup") == 2 and "write" in actions and "read" in actions
    lookups = [e for e in entries if e["action"] == "lookup"]
    assert lookups[0]["detail"]["answered_by"] == [INDICATOR]
    assert lookups[1]["detail"]["answered_by"] == []  # the water utility may not see AMBER
    boss = api.client("boss@water.example").audit()
    assert boss and all(e["org_id"] == api.community.water.id for e in boss)
    with pytest.raises(AccordError) as caught:
        cert.audit()
    assert caught.value.status == 403
    count, breaks = api.store.audit.verify()
    assert count == len(entries) and breaks == []


def test_anonymous_lookups_see_clear_only(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    cert.ingest(campaign_bundle(Tlp.CLEAR))
    anonymous = api.anonymous()
    assert anonymous.lookup("198.51.100.23")["verdict"] == "malicious"
    cert.ingest(
        campaign_bundle(Tlp.GREEN)["objects"][3] | {"modified": "2026-04-01T00:00:00.000Z"}
        and [campaign_bundle(Tlp.GREEN)["objects"][3] | {"modified": "2026-04-01T00:00:00.000Z"}]
    )
    assert anonymous.lookup("198.51.100.23")["verdict"] == "unknown"


def test_errors_name_the_field(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    response = cert.http.post("/api/v1/lookup", json={"values": []})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/body/values"
    response = cert.http.get("/api/v1/lookup", params={"value": "no such thing"})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/value"
    response = cert.http.get("/api/v1/lookup", params={"value": "1.2.3.4", "type": "banana"})
    assert response.status_code == 422
    response = cert.http.get("/api/v1/objects", params={"cursor": "!!"})
    assert response.status_code == 400
    response = cert.http.post("/api/v1/bundles", params={"tlp": "purple"}, content=b"{}")
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "/query/tlp"
    response = cert.http.get("/api/v1/openapi.json")
    assert response.status_code == 200 and "/api/v1/lookup" in response.json()["paths"]
    assert cert.http.get("/api/docs").status_code == 200


def test_body_limit_and_rate_limit(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from accord.api.app import create_app
    from accord.client import Client
    from accord.settings import Settings
    from accord.store.node import Store
    from community import make_community

    store = Store.open(f"sqlite:///{tmp_path / 'limits.db'}")
    store.init()
    community = make_community(store)
    key = store.directory.new_key(community.analyst.email)
    settings = Settings(
        database_url="unused", max_body_bytes=1000, rate_per_second=1.0, rate_burst=3
    )
    with TestClient(create_app(settings, store=store)) as http:
        client = Client("http://testserver", key, http=http)
        big = client.http.post(
            "/api/v1/bundles", content=b" " * 5000, headers={"Content-Type": "application/json"}
        )
        assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
        statuses = [client.http.get("/api/v1/objects").status_code for _ in range(5)]
        assert 429 in statuses
        limited = client.http.get("/api/v1/objects")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        time.sleep(1.1)
        assert client.http.get("/api/v1/objects").status_code == 200
    store.close()


def test_demo_lookup_over_the_api(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from accord.cli.main import app

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    shown = orjson.loads(CliRunner().invoke(app, ["--db", url, "demo", "--json"]).stdout)
    key = shown["api_keys"]["investigator@police.sudmark.example"]
    from fastapi.testclient import TestClient

    from accord.api.app import create_app
    from accord.client import Client
    from accord.settings import Settings

    # The demo leaves the documentation ranges' warninglists out as a setting of the node:
    # the API takes it from there (nothing passed in).
    with TestClient(create_app(Settings(database_url=url))) as http:
        answer = Client("http://testserver", key, http=http).lookup("198.51.100.23")
    assert answer["verdict"] == "malicious"
    assert any(r.get("attack_id") == "T1071" for r in answer["related"]) or any(
        r["type"] == "malware" for r in answer["related"]
    )


def test_warninglists_and_allowlists_in_lookups(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    resolver = cert.lookup("8.8.8.8")
    assert "List of known IPv4 public DNS resolvers" in {hit["name"] for hit in resolver["lists"]}
    assert resolver["verdict"] == "benign"
    # an indicator on a public resolver is damped, not "malicious"
    bad = _common(
        "indicator",
        "indicator--1d2e3f40-0000-4000-8000-00000000000a",
        pattern="[ipv4-addr:value = '8.8.8.8']",
        pattern_type="stix",
        valid_from=CREATED,
        confidence=100,
        object_marking_refs=[Tlp.GREEN.marking_id],
    )
    cert.ingest([bad])
    damped = cert.lookup("8.8.8.8")
    assert damped["reasons"] and damped["verdict"] != "malicious" and damped["score"] <= 30
    ipify = cert.lookup("hxxps://api[.]ipify[.]org/?format=json")
    assert any("external IP" in hit["name"] for hit in ipify["lists"])
    # an organisation's allowlist applies to its own views only
    cert.ingest(campaign_bundle())
    api.store.allowlists.add(api.community.water.id, "*.example.net")
    water = api.client("soc@water.example").lookup("c2.example.net")
    police = api.client("investigator@police.example").lookup("c2.example.net")
    assert (
        any(hit["source"] == "allowlist" for hit in water["lists"])
        and water["score"] < police["score"]
    )
    assert not any(hit["source"] == "allowlist" for hit in police["lists"])


def test_lookup_correlations_leave_out_warninglisted_values(api) -> None:  # type: ignore[no-untyped-def]
    """Two indicators share a public resolver and a plain address: a look-up lists their
    correlation through the plain address only (`BenignLists.warninglisted`, remembered per
    node), and the same again when asked a second time; an organisation's allowlist takes
    out the other one for that organisation alone."""
    cert = api.client("analyst@cert.example")

    def pair(number: int) -> dict[str, Any]:
        return _common(
            "indicator",
            f"indicator--1d2e3f40-0000-4000-8000-0000000001{number:02d}",
            pattern=f"[ipv4-addr:value = '8.8.8.8'] OR [ipv4-addr:value = '11.2.3.4'] "
            f"OR [domain-name:value = 'own{number}.example.org']",
            pattern_type="stix",
            valid_from=CREATED,
            confidence=80,
            object_marking_refs=[Tlp.GREEN.marking_id],
        )

    cert.ingest([pair(1), pair(2)])
    for _ in range(2):  # the second time from the node's memory of the answer
        answer = cert.lookup("own1.example.org")
        through = {c["value"] for c in answer["correlations"]}
        assert through == {"11.2.3.4"}, answer["correlations"]
    api.store.allowlists.add(api.community.cert.id, "11.2.3.4")
    assert cert.lookup("own1.example.org")["correlations"] == []
    police = api.client("investigator@police.example").lookup("own1.example.org")
    assert {c["value"] for c in police["correlations"]} == {"11.2.3.4"}


def test_a_refusal_names_the_role_with_its_article(api) -> None:  # type: ignore[no-untyped-def]
    """403s read "an analyst may not do this", not "a analyst"."""
    for email, role in (
        ("analyst@cert.example", "an analyst"),
        ("boss@water.example", "an org-admin"),
        ("soc@water.example", "a sensor"),
    ):
        refused = api.client(email).http.post("/api/v1/organisations", json={"name": "X"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == f"{role} may not do this (needs: admin)"
    reader = api.client("reader@police.example").http.post(
        "/api/v1/sightings", json={"value": "198.51.100.23"}
    )
    assert reader.status_code == 403 and reader.json()["detail"].startswith("a reader may not")
