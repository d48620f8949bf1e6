"""`accord extract` and `accord ingest report` end to end, on a SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app

runner = CliRunner()

REPORT = """\
2024-02-08: TA577 PUSHES PIKABOT

REFERENCES:
- https://twitter.com/Unit42_Intel/status/1755741384982561175

INDICATORS:
- SHA256 hash: 3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2
- hxxps://gloverstech[.]com/tJWz9/0.526635390798647.dat
- 158.220.80[.]167 port 2967 - HTTPS traffic
- documentation address 192.0.2.44 (not an indicator)
"""


def accord(db: str, *args: str, code: int = 0, stdin: str | None = None) -> Any:
    result = runner.invoke(app, ["--db", db, *args], input=stdin)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    accord(url, "init")
    accord(url, "org", "add", "CERT-EX")
    accord(url, "org", "add", "Water Utility")
    accord(url, "user", "add", "analyst@cert.example", "--org", "CERT-EX")
    accord(url, "user", "add", "soc@water.example", "--org", "Water Utility")
    return url


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "pikabot-note.txt"
    path.write_text(REPORT)
    return path


def test_extract_json_and_stdin(db: str, report: Path) -> None:
    out = orjson.loads(accord(db, "extract", str(report), "--json").stdout)
    by_value = {v["value"]: v for v in out[0]["values"]}
    url = by_value["https://gloverstech.com/tJWz9/0.526635390798647.dat"]
    assert url["type"] == "url" and url["defanged"] and url["raw"].startswith("hxxps://")
    assert REPORT[url["offset"] :].startswith("hxxps://gloverstech")
    assert by_value["158.220.80.167"]["port"] == 2967
    assert by_value["192.0.2.44"]["flags"][0]["code"] == "documentation"
    piped = orjson.loads(accord(db, "extract", "-", "--json", stdin=REPORT).stdout)
    assert {v["value"] for v in piped[0]["values"]} == set(by_value)
    table = accord(db, "extract", str(report)).stdout
    assert "gloverstech.com" in table and "documentation" in table


def test_dry_run_stores_nothing(db: str, report: Path) -> None:
    args = ("ingest", "report", str(report), "--as", "analyst@cert.example", "--dry-run")
    out = orjson.loads(accord(db, *args).stdout)
    assert out["stored"] is False and out["review"]["flagged"] >= 2
    assert out["review"]["sha256"] and out["review"]["file"] == "pikabot-note.txt"
    accord(db, "get", out["review"]["report_id"], "--as", "analyst@cert.example", code=1)


def test_ingest_report_visible_to_its_org_only(db: str, report: Path) -> None:
    args = ("ingest", "report", str(report), "--as", "analyst@cert.example", "--tlp", "amber")
    out = orjson.loads(accord(db, *args, "--json").stdout)
    assert out["rejected"] == 0 and out["stored"] >= 4
    stored = orjson.loads(
        accord(db, "get", out["report_id"], "--as", "analyst@cert.example", "--json").stdout
    )
    assert stored["type"] == "report" and stored["name"] == "pikabot-note.txt"
    assert stored["x_accord_source_file"]["sha256"] == out["review"]["sha256"]
    assert stored["external_references"][0]["hashes"]["SHA-256"] == out["review"]["sha256"]
    patterns = set()
    for ref in stored["object_refs"]:
        obj = orjson.loads(accord(db, "get", ref, "--as", "analyst@cert.example", "--json").stdout)
        patterns.add(obj["pattern"])
    assert "[ipv4-addr:value = '158.220.80.167']" in patterns
    assert "[url:value = 'https://gloverstech.com/tJWz9/0.526635390798647.dat']" in patterns
    assert not any("192.0.2.44" in p or "twitter.com" in p for p in patterns)  # flagged
    accord(db, "get", out["report_id"], "--as", "soc@water.example", code=1)  # AMBER


def test_include_flagged(db: str, report: Path) -> None:
    args = ("ingest", "report", str(report), "--as", "analyst@cert.example", "--json")
    out = orjson.loads(accord(db, *args, "--include-flagged", "--tlp", "green").stdout)
    assert out["review"]["included"] == out["review"]["found"]  # every value has a pattern
    found = orjson.loads(
        accord(db, "search", "192.0.2.44", "--as", "analyst@cert.example", "--json").stdout
    )
    assert found["matches"]
