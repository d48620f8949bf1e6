"""The command line's exit codes, the same for every command (README "Exit codes"):
0 done, 1 failed, 2 bad usage or input; and what a newcomer met on the way (issue 15, item 7):
`accord extract` shows `[@]` and `[b]...[/b]` as written, messages say "an analyst"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.context import console
from accord.cli.main import app

runner = CliRunner()

ANALYST = "analyst@cert.example"
INDICATOR = "indicator--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c02"
BUNDLE = {
    "type": "bundle",
    "id": "bundle--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c01",
    "objects": [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": INDICATOR,
            "created": "2026-01-05T09:00:00.000Z",
            "modified": "2026-01-05T09:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.23']",
            "pattern_type": "stix",
            "valid_from": "2026-01-05T09:00:00Z",
        }
    ],
}


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def db(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--role", "analyst")
    accord(store_url, "user", "add", "reader@cert.example", "--org", "CERT-EX", "--role", "reader")
    accord(store_url, "user", "add", "soc@cert.example", "--org", "CERT-EX", "--role", "sensor")
    Path("bundle.json").write_bytes(orjson.dumps(BUNDLE))
    accord(store_url, "ingest", "bundle.json", "--as", ANALYST, "--tlp", "green")
    return store_url


def test_a_look_up_of_an_invalid_value_exits_2(db: str) -> None:
    bad = accord(db, "lookup", "not a value", "--as", ANALYST, code=2)
    assert "cannot tell what 'not a value' is" in bad.output
    # Every value is still answered; the exit code says one of them was bad.
    mixed = accord(db, "lookup", "198.51.100.23", "not a value", "--as", ANALYST, code=2)
    assert "ipv4 198.51.100.23" in mixed.output and "not a value" in mixed.output
    as_json = accord(
        db, "lookup", "198.51.100.23", "not a value", "--as", ANALYST, "--json", code=2
    )
    answers = orjson.loads(as_json.stdout)
    assert [bool(a.get("error")) for a in answers] == [False, True]
    accord(db, "lookup", "198.51.100.9", "--type", "ipv9", "--as", ANALYST, code=2)
    accord(db, "lookup", "198.51.100.23", "--as", ANALYST)


@pytest.mark.parametrize(
    "args, code, says",
    [
        # 0: done
        (["lookup", "198.51.100.23", "--as", ANALYST], 0, "198.51.100.23"),
        (["get", INDICATOR, "--as", ANALYST], 0, INDICATOR),
        (["audit", "verify"], 0, "intact"),
        # 1: failed (nothing the user may see by that id; a file not stored; no feed to pull)
        (["get", "indicator--6f1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c99", "--as", ANALYST], 1, "no "),
        (["correlations", "nope", "--as", ANALYST], 1, "no object"),
        (["export", "misp", "--as", ANALYST, "--report", "nope"], 1, "no report"),
        (["ingest", "not-a-bundle.txt", "--as", ANALYST], 1, "not-a-bundle.txt"),
        (["feed", "pull"], 1, "no TAXII feeds"),
        # 2: bad usage or input
        (["lookup", "not a value", "--as", ANALYST], 2, "not a value"),
        (["search", "not a value", "--as", ANALYST], 2, "cannot tell"),
        (["sight", "not a value", "--as", ANALYST], 2, "cannot tell"),
        (["lookup", "198.51.100.23", "--as", "nobody@cert.example"], 2, "no user"),
        (["ingest", "bundle.json", "--as", ANALYST, "--tlp", "purple"], 2, "unknown TLP"),
        (["audit", "show", "--as", ANALYST], 2, "may not read the audit log"),
        (["lookup"], 2, "Missing argument"),
        (["lookup", "198.51.100.23", "--as", ANALYST, "--nope"], 2, "No such option"),
        (["nosuch"], 2, "No such command"),
        (["extract", "missing.txt"], 2, "no such file"),
        (["user", "passwd", ANALYST], 2, "no password on standard input"),
        (["user", "passwd", "nobody@cert.example"], 2, "no user"),
        (["user", "totp-reset", "nobody@cert.example"], 2, "no user"),
        (["org", "require-totp", "Nowhere", "--on"], 2, "no organisation"),
    ],
)
def test_exit_codes(db: str, args: list[str], code: int, says: str) -> None:
    Path("not-a-bundle.txt").write_text("hello\n", encoding="utf-8")
    result = accord(db, *args, code=code)
    assert says in result.output


def test_help_shows_the_exit_codes() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Exit codes: 0 done; 1 failed" in result.output
    assert "2 bad usage or input" in result.output


def test_extract_shows_defanged_at_signs_and_bracketed_text(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("note.txt").write_text(
        "Mail from billing[@]invoices.example said [b]urgent[/b] pay now.\n", encoding="utf-8"
    )
    found = orjson.loads(accord(db, "extract", "note.txt", "--json").stdout)
    [value] = found[0]["values"]
    assert (value["type"], value["value"]) == ("email", "billing@invoices.example")
    assert value["raw"] == "billing[@]invoices.example"
    # Wide enough that no cell is cut (the console's width is fixed when it is made).
    monkeypatch.setattr(console, "_width", 400)
    shown = accord(db, "extract", "note.txt")
    assert "billing@invoices.example" in shown.output
    assert "billing[@]invoices.example" in shown.output  # the context, as written
    assert "billinginvoices" not in shown.output
    assert "[b]urgent[/b]" in shown.output
    stored = accord(db, "ingest", "report", "note.txt", "--as", ANALYST, "--include-flagged")
    assert "billinginvoices" not in stored.output


def test_refusals_say_an_analyst(db: str) -> None:
    refused = accord(db, "org", "add", "Rail", "--as", ANALYST, code=2)
    assert "is an analyst: this needs admin" in " ".join(refused.output.split())
    Path("trail.txt").write_text("198.51.100.7\n", encoding="utf-8")
    reader = accord(db, "ingest", "list", "trail.txt", "--as", "reader@cert.example", code=2)
    assert "is a reader: only analysts" in " ".join(reader.output.split())
    seen = accord(db, "sight", "198.51.100.23", "--as", "soc@cert.example", "--kind", "expired")
    assert "Recorded an expired sighting" in " ".join(seen.output.split())
