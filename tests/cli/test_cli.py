"""The `accord` command end to end, through Typer's runner, on a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app

runner = CliRunner()


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


def as_json(result: Any) -> Any:
    return orjson.loads(result.stdout)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    accord(url, "init")
    accord(url, "org", "add", "CERT-EX", "--sector", "national-cert", "--country", "EX")
    accord(url, "org", "add", "Water Utility", "--sector", "water")
    accord(url, "user", "add", "analyst@cert.example", "--org", "CERT-EX", "--role", "analyst")
    accord(url, "user", "add", "soc@water.example", "--org", "Water Utility", "--role", "reader")
    return url


def bundle(tmp_path: Path, name: str, *objects: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--1d4b8d7d-2e4b-4f83-b9d7-0f0f0f0f0f0f",
                "objects": list(objects),
            }
        )
    )
    return path


def indicator(number: int, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{number:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"indicator {number}",
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "org", "user", "group", "ingest", "search", "get", "export", "demo"):
        assert command in result.output
    result = runner.invoke(app, ["ingest", "stix", "--help"])
    assert "--partial" in result.output and "--tlp" in result.output


def test_user_add_prints_key_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    accord(url, "init")
    accord(url, "org", "add", "CERT-EX")
    made = as_json(accord(url, "user", "add", "a@cert.example", "--org", "CERT-EX", "--json"))
    assert made["api_key"].startswith("acc_") and len(made["api_key"]) > 43
    listed = accord(url, "user", "list", "--json").stdout
    # The secret part whole (it may itself hold "_"): a short fragment could occur by chance.
    secret = made["api_key"].split("_", 2)[2]
    assert made["api_key"] not in listed and secret not in listed


def test_ingest_search_get_export(db: str, tmp_path: Path) -> None:
    path = bundle(tmp_path, "a.json", indicator(1, "198.51.100.7"), indicator(2, "203.0.113.0/24"))
    summary = as_json(
        accord(db, "ingest", str(path), "--as", "analyst@cert.example", "--tlp", "green", "--json")
    )
    assert summary[0]["stored"] == 2 and summary[0]["rejected"] == 0
    again = as_json(accord(db, "ingest", str(path), "--as", "analyst@cert.example", "--json"))
    assert again[0]["duplicates"] == 2

    found = as_json(accord(db, "search", "203.0.113.9", "--as", "soc@water.example", "--json"))
    assert [m["relation"] for m in found["matches"]] == ["cidr"]
    assert found["matches"][0]["tlp"] == "TLP:GREEN"

    got = as_json(accord(db, "get", indicator(1, "")["id"], "--as", "soc@water.example", "--json"))
    assert got["pattern"] == "[ipv4-addr:value = '198.51.100.7']"

    out = tmp_path / "out.json"
    accord(db, "export", "stix", "--as", "soc@water.example", "--type", "indicator", "-o", str(out))
    exported = orjson.loads(out.read_bytes())
    assert sorted(o["id"] for o in exported["objects"]) == sorted(
        [indicator(1, "")["id"], indicator(2, "")["id"]]
    )


def test_amber_is_not_shown_to_another_organisation(db: str, tmp_path: Path) -> None:
    path = bundle(tmp_path, "amber.json", indicator(3, "192.0.2.99"))
    accord(db, "ingest", str(path), "--as", "analyst@cert.example")  # node default: AMBER
    mine = as_json(accord(db, "search", "192.0.2.99", "--as", "analyst@cert.example", "--json"))
    theirs = as_json(accord(db, "search", "192.0.2.99", "--as", "soc@water.example", "--json"))
    assert len(mine["matches"]) == 1 and theirs["matches"] == []
    result = accord(db, "get", indicator(3, "")["id"], "--as", "soc@water.example", code=1)
    assert "no object" in result.output
    exported = accord(db, "export", "stix", "--as", "soc@water.example").stdout
    assert indicator(3, "")["id"] not in exported


def test_rejected_bundle_exits_1_and_partial_stores_the_rest(db: str, tmp_path: Path) -> None:
    broken = indicator(5, "192.0.2.5") | {"valid_from": "yesterday"}
    path = bundle(tmp_path, "mixed.json", indicator(4, "192.0.2.4"), broken)
    result = accord(db, "ingest", str(path), "--as", "analyst@cert.example", code=1)
    assert "object 1" in result.output and broken["id"] in result.output
    assert "valid_from" in result.output and "--partial" in result.output
    summary = as_json(
        accord(
            db, "ingest", str(path), "--as", "analyst@cert.example", "--partial", "--json", code=1
        )
    )
    assert summary[0]["stored"] == 1 and summary[0]["rejections"][0]["index"] == 1


def test_errors_say_how_to_fix(tmp_path: Path, db: str) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert "accord init" in accord(fresh, "org", "list", code=2).output
    assert (
        "accord user add"
        in accord(db, "search", "1.2.3.4", "--as", "nobody@x.example", code=2).output
    )
    assert (
        "unknown TLP"
        in accord(
            db,
            "ingest",
            str(bundle(tmp_path, "b.json")),
            "--as",
            "analyst@cert.example",
            "--tlp",
            "purple",
            code=2,
        ).output
    )
    assert (
        "cannot tell what"
        in accord(db, "search", "not a value", "--as", "analyst@cert.example", code=2).output
    )
    reader = accord(
        db, "ingest", str(bundle(tmp_path, "c.json")), "--as", "soc@water.example", code=2
    )
    assert "only analysts" in reader.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle", "objects": [1,]}')
    assert (
        "not valid JSON at line 1"
        in accord(db, "ingest", str(bad), "--as", "analyst@cert.example", code=1).output
    )


def test_sharing_group_recipients_from_the_command_line(db: str, tmp_path: Path) -> None:
    accord(db, "group", "add", "water-sector", "--orgs", "Water Utility")
    path = bundle(tmp_path, "g.json", indicator(6, "192.0.2.66"))
    accord(
        db,
        "ingest",
        str(path),
        "--as",
        "analyst@cert.example",
        "--tlp",
        "amber",
        "--recipients",
        "group:water-sector",
    )
    theirs = as_json(accord(db, "search", "192.0.2.66", "--as", "soc@water.example", "--json"))
    assert len(theirs["matches"]) == 1


def test_demo_builds_a_node(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    shown = as_json(accord(url, "demo", "--json"))
    views = shown["searches"]
    assert views["198.51.100.23"]["Bluefin Security"]  # GREEN: every member
    assert not views["192.0.2.45"]["Bluefin Security"]  # AMBER+STRICT: water and CERT only
    assert views["192.0.2.45"]["CERT-Nordland"] and views["192.0.2.45"]["Riverside Water"]
    assert views["2001:db8:dead::beef"]["Police Cyber Unit Sudmark"]  # RED, named user
    assert not views["2001:db8:dead::beef"]["Riverside Water"]
    attack = [entry for entry in shown["ingested"] if "attack" in str(entry["source"])]
    assert attack[0]["stored"] > 19_000 and attack[0]["rejected"] == 0
    # ATT&CK arrived as STIX 2.0 and was upgraded
    technique = as_json(
        accord(
            url,
            "get",
            "attack-pattern--355be19c-ffc9-46d5-8d50-d6a036c675b6",
            "--as",
            "research@bluefin.example",
            "--json",
        )
    )
    assert technique["spec_version"] == "2.1" and technique["name"] == "Application Layer Protocol"
    accord(url, "demo", "--json")  # a second run changes nothing and does not fail


def test_lookup_names_the_lists_and_what_they_did(db: str, tmp_path: Path) -> None:
    """Issue 15, item 5: a C2 on a rented VPS address stays malicious, and the table output
    says which lists a value is on and what each did to the score."""
    vpn = "Specialized list of vpn-ipv4 addresses belonging to common VPN providers and datacenters"
    c2 = {"confidence": 90, "indicator_types": ["malicious-activity"]}
    path = bundle(
        tmp_path, "c2.json", indicator(71, "104.131.0.1", **c2), indicator(72, "8.8.4.4", **c2)
    )
    accord(db, "ingest", "stix", str(path), "--as", "analyst@cert.example", "--tlp", "green")
    out = accord(db, "lookup", "104.131.0.1", "8.8.4.4", "--as", "analyst@cert.example").stdout
    vps, resolver = out.split("ipv4 8.8.4.4")
    assert "ipv4 104.131.0.1: malicious (score 90," in vps
    assert (
        f"On warninglist '{vpn}' (shared infrastructure; VPN and datacenter ranges: anyone can "
        "rent an address there): context only, no effect on the verdict"
    ) in " ".join(vps.split())
    assert resolver.startswith(": benign (score 27,")
    assert (
        "On warninglist 'List of known IPv4 public DNS resolvers' (benign by nature; public DNS "
        "resolvers): score x0.3"
    ) in resolver
    # A node's own class is named; a setting that cannot be read is a clear error, exit 2.
    accord(db, "settings", "set", "warninglists.classes", f"{vpn}=benign")
    result = runner.invoke(
        app, ["--db", db, "lookup", "104.131.0.1", "--as", "analyst@cert.example"]
    )
    assert result.exit_code == 0 and "benign (score 27," in result.stdout
    assert "benign by this node's setting (the reviewed table says context" in " ".join(
        result.stdout.split()
    )
    bad = runner.invoke(
        app, ["--db", db, "settings", "set", "warninglists.classes", f"{vpn}=harmless"]
    )
    assert bad.exit_code == 2, bad.output
    assert "the class must be 'benign' or 'context'" in " ".join(bad.output.split())
    accord(db, "settings", "set", "warninglists.classes", "No such list=benign")
    result = runner.invoke(
        app, ["--db", db, "lookup", "104.131.0.1", "--as", "analyst@cert.example"]
    )
    assert result.exit_code != 0, result.output
    assert "'No such list', which is not a warninglist of this node" in " ".join(
        result.output.split()
    )
