"""``accord export {suricata,zeek-intel,rpz,hosts,csv}``: the leak matrix over the command
line, files beside the rules, the benign lists, what is left out on standard error, the audit
of reads, bad options."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app
from accord.model.tlp import Tlp
from accord.store.node import Store
from community import make_community
from leakdata import ADDRESS, DOMAIN, EXPECTED, NETWORK, indicator, load_matrix
from sensor_support import indicator as numbered
from sensor_support import parse_rules, read_zeek_intel, store_indicators

runner = CliRunner()
EMAILS = {
    "creator": "analyst@cert.example",
    "colleague": "colleague@cert.example",
    "recipient": "investigator@police.example",
    "outsider": "soc@water.example",
}
DOCUMENTATION_LISTS = "List of RFC 5735 CIDR blocks,List of RFC 3849 CIDR blocks"


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def node(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'node.db'}"
    accord(db, "init")
    store = Store.open(db)
    try:
        community = make_community(store)
        load_matrix(store, community)
        store_indicators(
            store,
            community.analyst,
            [numbered(1, "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']")],
        )
    finally:
        store.close()
    return db


@pytest.mark.parametrize("format", ["suricata", "zeek-intel", "rpz", "hosts", "csv"])
def test_cli_export_leak_matrix(node: str, format: str) -> None:
    accord(node, "settings", "set", "warninglists.ignore", DOCUMENTATION_LISTS)
    for name, email in EMAILS.items():
        text = accord(node, "export", format, "--as", email).stdout
        for level in Tlp:
            expected = name in EXPECTED[level]
            seen = str(indicator(level)["id"]) in text
            assert seen == expected, f"{format}: {name} {'sees' if seen else 'misses'} {level}"
            assert (DOMAIN[level] in text) == expected
            if format in ("suricata", "zeek-intel", "csv"):
                assert (ADDRESS[level] in text) == expected


def test_suricata_to_a_directory_writes_the_lists_beside(node: str, tmp_path: Path) -> None:
    out = tmp_path / "rules"
    out.mkdir()
    result = accord(node, "export", "suricata", "--as", EMAILS["outsider"], "-o", str(out))
    assert "accord-md5.list" in result.stdout
    rules = (out / "accord.rules").read_text()
    assert any("filemd5:accord-md5.list" in r.raw for r in parse_rules(rules))
    listed = (out / "accord-md5.list").read_text().splitlines()
    assert listed == [
        '0123456789abcdef0123456789abcdef indicator--11111111-0000-4000-8000-000000000001 TLP:GREEN score 50 "indicator 1"'
    ]
    # On standard output the rules alone, and a word on standard error about the lists.
    printed = accord(node, "export", "suricata", "--as", EMAILS["outsider"])
    assert "filemd5:accord-md5.list" in printed.stdout
    assert "export with --output DIR" in printed.stderr


def test_benign_values_are_left_out_or_flagged(node: str) -> None:
    # The matrix's addresses are documentation addresses: on the RFC 5735 warninglist (and
    # so is the CLEAR network, 203.0.113.0/24; the GREEN one, 203.0.112.0/24, is not).
    result = accord(node, "export", "csv", "--as", EMAILS["outsider"])
    assert ADDRESS[Tlp.GREEN] not in result.stdout and DOMAIN[Tlp.GREEN] in result.stdout
    assert NETWORK[Tlp.GREEN] in result.stdout and NETWORK[Tlp.CLEAR] not in result.stdout
    assert "left out, on a benign list (warninglist or allowlist): 3" in result.stderr
    flagged = accord(node, "export", "csv", "--as", EMAILS["outsider"], "--include-benign")
    rows = {row["value"]: row for row in csv.DictReader(io.StringIO(flagged.stdout))}
    assert rows[ADDRESS[Tlp.GREEN]]["benign_lists"] == "List of RFC 5735 CIDR blocks"
    # The organisation's own allowlist counts too.
    accord(node, "settings", "set", "warninglists.ignore", DOCUMENTATION_LISTS)
    accord(
        node, "user", "add", "boss@water.example", "--org", "Water Utility", "--role", "org-admin"
    )
    accord(node, "allowlist", "add", DOMAIN[Tlp.CLEAR], "--as", "boss@water.example")
    text = accord(node, "export", "hosts", "--as", EMAILS["outsider"]).stdout
    assert DOMAIN[Tlp.CLEAR] not in text and DOMAIN[Tlp.GREEN] in text


def test_json_summary_types_and_audit(node: str, tmp_path: Path) -> None:
    out = tmp_path / "intel.txt"
    summary = orjson.loads(
        accord(
            node,
            "export",
            "zeek-intel",
            "--as",
            EMAILS["recipient"],
            "--type",
            "domain",
            "--link-base",
            "https://accord.example",
            "-o",
            str(out),
            "--json",
        ).stdout
    )
    rows = read_zeek_intel(out.read_text())
    assert {row["indicator_type"] for row in rows} == {"Intel::DOMAIN"}
    assert summary["exported"] == len(rows) == 5  # every level: the police are named on all
    assert rows[0]["meta.url"].startswith("https://accord.example/api/v1/objects/indicator--")
    store = Store.open(node)
    try:
        audit = store.audit.entries(action="read")
    finally:
        store.close()
    reads = [e for e in audit if e.detail["via"] == "accord export zeek-intel"]
    assert len(reads) == 1
    assert set(reads[0].detail["ids"]) == {
        str(indicator(level)["id"]) for level in (Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
    }


def test_bad_options_name_the_option(node: str) -> None:
    bad = accord(node, "export", "csv", "--as", EMAILS["outsider"], "--type", "ipv9", code=2)
    assert "--type" in bad.stderr and "'ipv9'" in bad.stderr
    bad = accord(node, "export", "rpz", "--as", EMAILS["outsider"], "--since", "soon", code=2)
    assert "--since" in bad.stderr
    bad = accord(node, "export", "hosts", "--as", EMAILS["outsider"], "--min-score", "200", code=2)
    assert "--min-score" in bad.stderr
    accord(node, "export", "hosts", "--as", "nobody@nowhere.example", code=2)


def test_misp_export_audits_its_amber_reads(node: str, tmp_path: Path) -> None:
    report = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--5b0c7f3e-2d6e-4f3a-9a61-1f2e3d4c5b6a",
        "created": "2026-01-05T09:00:00.000Z",
        "modified": "2026-01-05T09:00:00.000Z",
        "name": "AMBER report for the police",
        "published": "2026-01-05T09:00:00Z",
        "object_refs": [str(indicator(Tlp.AMBER)["id"])],
        "object_marking_refs": [Tlp.AMBER.marking_id],
    }
    bundle = {"type": "bundle", "id": "bundle--5b0c7f3e-2d6e-4f3a-9a61-1f2e3d4c5b6b"}
    path = tmp_path / "report.json"
    path.write_bytes(orjson.dumps({**bundle, "objects": [report]}))
    accord(
        node, "ingest", "stix", str(path), "--as", EMAILS["creator"],
        "--recipients", "Police Cyber Unit",
    )  # fmt: skip
    events = orjson.loads(accord(node, "export", "misp", "--as", EMAILS["recipient"]).stdout)
    assert [e["Event"]["info"] for e in events["response"]] == ["AMBER report for the police"]
    store = Store.open(node)
    try:
        audit = store.audit.entries(action="read")
    finally:
        store.close()
    [read] = [e for e in audit if e.detail["via"] == "accord export misp"]
    assert {report["id"], str(indicator(Tlp.AMBER)["id"])} <= set(read.detail["ids"])
