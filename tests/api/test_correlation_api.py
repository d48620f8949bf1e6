"""Correlations and sightings over HTTP and the command line: the route, look-up answers, kinds
and anonymous sightings, the leak matrix over the route."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from accord.client import AccordError
from accord.model.tlp import Tlp
from leakdata import ADDRESS, EXPECTED, VIEWERS, indicator, load_matrix

NS = uuid.UUID("6f1c7c53-5d2a-4c3e-9a55-0000000000c1")


def ident(name: str) -> str:
    return f"indicator--{uuid.uuid5(NS, name)}"


def value_indicator(name: str, path: str, value: str, tlp: Tlp = Tlp.GREEN) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident(name),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "pattern": f"[{path} = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [tlp.marking_id],
    }


EMAILS = {
    "creator": "analyst@cert.example",
    "colleague": "colleague@cert.example",
    "recipient": "investigator@police.example",
    "outsider": "soc@water.example",
}


def _get(api, email: str | None, path: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def,type-arg]
    headers = {"Authorization": f"Bearer {api.keys[email]}"} if email else {}
    response = TestClient(api.http.app).get(path, headers=headers)
    return response.status_code, response.json()


def test_correlations_route_leak_matrix(api) -> None:  # type: ignore[no-untyped-def]
    load_matrix(api.store, api.community)
    probe = value_indicator("probe", "ipv4-addr:value", "192.0.2.1", Tlp.GREEN)
    probe["pattern"] = " OR ".join(
        ["[ipv4-addr:value = '192.0.2.1']"]
        + [f"[ipv4-addr:value = '{ADDRESS[level]}']" for level in Tlp]
    )
    api.client("boss@water.example").ingest([probe])
    for name in VIEWERS:
        if name == "anonymous":
            status, _ = _get(api, None, f"/api/v1/objects/{ident('probe')}/correlations")
            assert status == 401
            continue
        status, body = _get(api, EMAILS[name], f"/api/v1/objects/{ident('probe')}/correlations")
        assert status == 200
        seen = {c["id"] for c in body["correlations"]}
        for level in Tlp:
            assert (str(indicator(level)["id"]) in seen) == (name in EXPECTED[level]), (name, level)
            status, _ = _get(
                api, EMAILS[name], f"/api/v1/objects/{indicator(level)['id']}/correlations"
            )
            assert status == (200 if name in EXPECTED[level] else 404)
        # The look-up lists the probe's correlations not already among its reasons.
        answer = api.client(EMAILS[name]).lookup("192.0.2.1")
        listed = {c["id"] for c in answer["correlations"]}
        assert listed == {str(indicator(level)["id"]) for level in Tlp if name in EXPECTED[level]}
    status, problem = _get(api, EMAILS["outsider"], "/api/v1/objects/indicator--nope/correlations")
    assert status == 404 and problem["status"] == 404


def _sight(api, email: str, **body: object) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = TestClient(api.http.app).post(
        "/api/v1/sightings", json=body, headers={"Authorization": f"Bearer {api.keys[email]}"}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_sighting_kinds_and_anonymous_over_http(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    target = value_indicator("c2", "ipv4-addr:value", "198.51.100.44") | {"confidence": 80}
    cert.ingest([target])
    police = api.client("investigator@police.example")
    before = police.lookup("198.51.100.44")
    made = _sight(
        api, "soc@water.example", indicator=ident("c2"), count=7, tlp="amber", anonymous=True
    )
    after = police.lookup("198.51.100.44")
    # Counted for the police, who may not read the AMBER sighting nor learn who made it.
    assert after["sightings"] == before["sightings"] + 7
    assert after["reporting_organisations"] == before["reporting_organisations"]
    for object_id in made["created"]:
        with pytest.raises(AccordError):
            police.get(object_id)
    water = api.client("soc@water.example")
    own = water.get(made["created"][0])
    assert "created_by_ref" not in own and "where_sighted_refs" not in own
    # False-positive votes from two organisations lower the score.
    _sight(api, "soc@water.example", indicator=ident("c2"), kind="false-positive", tlp="green")
    _sight(
        api,
        "investigator@police.example",
        indicator=ident("c2"),
        kind="false-positive",
        tlp="green",
    )
    voted = police.lookup("198.51.100.44")
    assert voted["score"] < after["score"] and voted["sightings"] == after["sightings"]
    response = TestClient(api.http.app).post(
        "/api/v1/sightings",
        json={"indicator": ident("c2"), "kind": "bogus"},
        headers={"Authorization": f"Bearer {api.keys['soc@water.example']}"},
    )
    assert response.status_code == 422


def test_cli_correlations_and_sight(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from accord.cli.main import app

    monkeypatch.setenv("ACCORD_WARNINGLISTS", "0")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", db, *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("org", "add", "CERT-EX")
    run("user", "add", "a@cert.example", "--org", "CERT-EX")
    bundle = tmp_path / "b.json"
    objects = [value_indicator(n, "ipv4-addr:value", "203.0.113.9") for n in ("one", "two")]
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects}))
    run("ingest", str(bundle), "--as", "a@cert.example", "--tlp", "green")
    found = orjson.loads(run("correlations", ident("one"), "--as", "a@cert.example", "--json"))
    assert [(c["id"], c["relation"]) for c in found["correlations"]] == [
        (ident("two"), "same-value")
    ]
    assert "TLP:GREEN" in run("correlations", ident("one"), "--as", "a@cert.example")
    made = orjson.loads(
        run(
            "sight",
            "203.0.113.9",
            "--as",
            "a@cert.example",
            "--kind",
            "false-positive",
            "--count",
            "2",
            "--json",
        )
    )
    assert sorted(made["sighted"]) == sorted([ident("one"), ident("two")])
    result = runner.invoke(app, ["--db", db, "sight", "--as", "a@cert.example"])
    assert result.exit_code == 2 and "VALUE or --indicator" in result.output
