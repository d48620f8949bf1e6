"""`accord allowlist` and `accord ingest list` end to end, through Typer's runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app

runner = CliRunner()
REPO_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache"


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(REPO_CACHE))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    accord(url, "init")
    accord(url, "org", "add", "CERT-EX")
    accord(url, "org", "add", "Water Utility")
    accord(url, "user", "add", "analyst@cert.example", "--org", "CERT-EX", "--role", "analyst")
    accord(url, "user", "add", "boss@cert.example", "--org", "CERT-EX", "--role", "org-admin")
    accord(url, "user", "add", "root@node.example", "--org", "CERT-EX", "--role", "admin")
    return url


def test_allowlist_for_org_admins_only(db: str) -> None:
    denied = accord(db, "allowlist", "add", "10.0.0.0/8", "--as", "analyst@cert.example", code=2)
    assert "only org-admins and admins" in denied.output
    added = accord(
        db,
        "allowlist",
        "add",
        "*.cert.example",
        "--comment",
        "ours",
        "--as",
        "boss@cert.example",
        "--json",
    )
    assert orjson.loads(added.stdout)["entry"] == "*.cert.example"
    accord(db, "allowlist", "add", "10.0.0.0/8", "--as", "boss@cert.example")
    twice = accord(db, "allowlist", "add", "10.1.2.3/8", "--as", "boss@cert.example", code=2)
    assert "already" in twice.output
    bad = accord(db, "allowlist", "add", "not a value", "--as", "boss@cert.example", code=2)
    assert "not an address" in bad.output
    other = accord(
        db, "allowlist", "list", "--org", "Water Utility", "--as", "boss@cert.example", code=2
    )
    assert "only their own organisation" in other.output
    # An admin may keep any organisation's allowlist.
    accord(
        db,
        "allowlist",
        "add",
        "192.0.2.0/24",
        "--org",
        "Water Utility",
        "--as",
        "root@node.example",
    )
    listed = orjson.loads(
        accord(db, "allowlist", "list", "--as", "boss@cert.example", "--json").stdout
    )
    assert [entry["entry"] for entry in listed] == ["*.cert.example", "10.0.0.0/8"]
    accord(db, "allowlist", "remove", ".cert.example", "--as", "boss@cert.example")
    missing = accord(db, "allowlist", "remove", "x.example", "--as", "boss@cert.example", code=2)
    assert "not on the allowlist" in missing.output


def test_ingest_list_flags_and_skips_warninglisted(db: str, tmp_path: Path) -> None:
    path = tmp_path / "traffic.txt"
    path.write_text("api.ipify[.]org\nevil-unlisted-c2-4711.top\n8.8.8.8\nnot a value\n")
    result = accord(db, "ingest", "list", str(path), "--as", "analyst@cert.example", "--json")
    report = orjson.loads(result.stdout)[0]
    assert (report["stored"], report["warninglisted"], report["bad_lines"]) == (3, 2, 1)
    assert report["bad_line_details"][0]["line"] == 4
    skipped = accord(
        db,
        "ingest",
        "list",
        str(path),
        "--as",
        "analyst@cert.example",
        "--json",
        "--skip-warninglisted",
        "--source",
        "other",
        "--tlp",
        "green",
    )
    assert orjson.loads(skipped.stdout)[0]["stored"] == 1
    again = accord(db, "ingest", "list", str(path), "--as", "analyst@cert.example")
    assert "traffic.txt" in again.output and "line 4" in again.output
    found = accord(db, "search", "8.8.8.8", "--as", "analyst@cert.example", "--json")
    assert "8.8.8.8" in found.stdout


def test_ingest_list_errors(db: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ioc,comment\n1.2.3.4,x\n")
    bad = accord(
        db,
        "ingest",
        "list",
        str(path),
        "--columns",
        "val=1",
        "--as",
        "analyst@cert.example",
        code=2,
    )
    assert "unknown column name" in bad.output
    kind = accord(
        db, "ingest", "list", str(path), "--type", "ipx", "--as", "analyst@cert.example", code=2
    )
    assert "unknown --type" in kind.output
    ok = accord(
        db,
        "ingest",
        "list",
        str(path),
        "--columns",
        "value=1,comment=2",
        "--as",
        "analyst@cert.example",
        "--json",
    )
    assert orjson.loads(ok.stdout)[0]["kinds"] == {"ipv4": 1}
