"""The command line with hostile data (issue 14, items 10, 12 and 13), on SQLite and PostgreSQL:
documents nested too deep or repeating a key end in a clear error, a MISP feed manifest cannot
make `accord ingest misp` read outside its folder, and data is printed as text (Rich markup
escaped, terminal control characters shown, never sent to the terminal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.display import shown, visible
from accord.cli.main import app
from accord.model.jsondoc import MAX_DEPTH
from accord.model.tlp import Tlp

runner = CliRunner()

ANALYST = "analyst@cert.example"
# Rich markup that raises, markup that would style and link, and terminal controls: a CSI that
# clears the screen, an OSC that sets the window title, BEL, backspace, carriage return, a C1
# CSI, and a bidi override.
NASTY = "[/x][bold red][link=http://evil.example]x\x1b[2J\x1b]0;owned\x07\x08\r\x9b31m\u202egnp.exe"
INDICATOR = "indicator--5a1e0000-0000-4000-8000-000000000001"
MALWARE = "malware--5a1e0000-0000-4000-8000-000000000002"
STAMP = "2026-01-01T00:00:00.000Z"
UUID = "5a1e0000-0000-4000-8000-00000000e7e1"


def accord(db: str, *args: str, code: int = 0, stdin: str | None = None) -> Any:
    result = runner.invoke(app, ["--db", db, *args], input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def _clean(result: Any) -> str:
    """The output, checked to hold no raw control character but line breaks."""
    output = str(result.output)
    for char in ("\x1b", "\x07", "\x08", "\r", "\x9b", "\u202e"):
        assert char not in output, (char, output)
    return output


@pytest.fixture
def db(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # short, relative file names in the tables
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--role", "analyst")
    accord(store_url, "user", "add", "admin@cert.example", "--org", "CERT-EX", "--role", "admin")
    return store_url


def _write(path: Path, document: Any) -> Path:
    path.write_bytes(orjson.dumps(document))
    return path


def _nasty_bundle(tmp_path: Path) -> Path:
    common = {"spec_version": "2.1", "created": STAMP, "modified": STAMP}
    green = {"object_marking_refs": [Tlp.GREEN.marking_id]}
    return _write(
        tmp_path / "nasty.json",
        {
            "type": "bundle",
            "id": "bundle--5a1e0000-0000-4000-8000-0000000000ff",
            "objects": [
                {
                    "type": "indicator",
                    "id": INDICATOR,
                    **common,
                    **green,
                    "name": NASTY,
                    "pattern": "[ipv4-addr:value = '198.51.100.77']",
                    "pattern_type": "stix",
                    "valid_from": STAMP,
                },
                {
                    "type": "malware",
                    "id": MALWARE,
                    **common,
                    **green,
                    "name": NASTY,
                    "is_family": True,
                },
                {
                    "type": "relationship",
                    "id": "relationship--5a1e0000-0000-4000-8000-000000000003",
                    **common,
                    **green,
                    "relationship_type": "indicates",
                    "source_ref": INDICATOR,
                    "target_ref": MALWARE,
                },
            ],
        },
    )


# -- item 13: terminal injection ------------------------------------------------------------


def test_shown_escapes_markup_and_controls() -> None:
    assert visible("a\x1b[2Jb\x07\u202ec\x9b\r\nd") == "a\\x1b[2Jb\\x07\\u202ec\\x9b\\x0d\\x0ad"
    assert shown("[/x]") == "\\[/x]"
    assert shown(None) == ""


def test_data_is_printed_as_text_by_every_command(db: str, tmp_path: Path) -> None:
    as_ = ("--as", ANALYST)
    _nasty_bundle(tmp_path)
    ingested = _clean(accord(db, "ingest", "nasty.json", *as_))
    assert "nasty.json" in ingested
    looked_up = _clean(accord(db, "lookup", "198.51.100.77", *as_))
    assert "[/x]" in looked_up and "\\x1b" in looked_up
    searched = _clean(accord(db, "search", "198.51.100.77", *as_))
    assert "[/x]" in searched
    got = _clean(accord(db, "get", INDICATOR, *as_))
    assert "[/x]" in got
    _clean(accord(db, "correlations", INDICATOR, *as_))
    _clean(accord(db, "audit", "show", "--as", "admin@cert.example"))
    missing = _clean(accord(db, "get", f"indicator--{NASTY}", *as_, code=1))
    assert "[/x]" in missing


def test_a_report_with_markup_and_controls(db: str, tmp_path: Path) -> None:
    report = Path("[red]report[x].txt")
    report.write_text(
        f"The actor {NASTY} used 203.0.113.66 and evil[.]example[/x] for C2.\n", encoding="utf-8"
    )
    extracted = _clean(accord(db, "extract", str(report)))
    assert "[red]report[x].txt" in extracted
    assert "203.0.113.66" in extracted and "[/x]" in extracted
    stored = _clean(accord(db, "ingest", "report", str(report), "--as", ANALYST, "--tlp", "green"))
    assert "[red]report[x].txt" in stored


def test_rejections_and_file_names_with_markup(db: str, tmp_path: Path) -> None:
    bad = _write(
        tmp_path / "[bold]bad.json",
        {"type": "bundle", "objects": [{"type": "indicator", "id": f"indicator--{NASTY}"}]},
    )
    output = _clean(accord(db, "ingest", bad.name, "--as", ANALYST, code=1))
    assert "[bold]bad.json" in output and "rejected" in output


def test_misp_and_lists_with_markup(db: str, tmp_path: Path) -> None:
    event = {
        "Event": {
            "uuid": UUID,
            "info": NASTY,
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {
                    "uuid": "5a1e0000-0000-4000-8000-00000000a771",
                    "type": "ip-dst",
                    "category": "Network activity",
                    "value": "198.51.100.78",
                    "comment": NASTY,
                    "to_ids": True,
                }
            ],
        }
    }
    misp = _clean(
        accord(db, "ingest", "misp", _write(tmp_path / "[u]e.json", event).name, "--as", ANALYST)
    )
    assert "[u]e.json" in misp
    listed = Path("[u]list.txt")
    listed.write_text(f"198.51.100.79\n{NASTY}\n", encoding="utf-8")
    skipped = _clean(accord(db, "ingest", "list", str(listed), "--as", ANALYST, "--tlp", "green"))
    assert "[u]list.txt" in skipped and "[/x]" in skipped


# -- item 10: bad documents on the command line ------------------------------------------------


def test_cli_refuses_a_document_nested_too_deep(db: str, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_bytes(
        b'{"type":"bundle","objects":[{"type":"indicator","x":'
        + b"[" * 10_000
        + b"]" * 10_000
        + b"}]}"
    )
    output = accord(db, "ingest", str(deep), "--as", ANALYST, code=1).output
    assert f"nested deeper than {MAX_DEPTH} levels" in output
    misp = accord(db, "ingest", "misp", str(deep), "--as", ANALYST, code=1).output
    assert f"nested deeper than {MAX_DEPTH} levels" in misp


def test_cli_refuses_a_repeated_key(db: str, tmp_path: Path) -> None:
    twice = tmp_path / "twice.json"
    twice.write_bytes(
        b'{"type":"bundle","objects":[{"type":"indicator","spec_version":"2.1",'
        b'"id":"' + INDICATOR.encode() + b'","created":"' + STAMP.encode() + b'",'
        b'"modified":"' + STAMP.encode() + b'","valid_from":"' + STAMP.encode() + b'",'
        b'"pattern":"[ipv4-addr:value = \'198.51.100.80\']","pattern_type":"stix",'
        b'"object_marking_refs":["' + Tlp.RED.marking_id.encode() + b'"],'
        b'"object_marking_refs":["' + Tlp.CLEAR.marking_id.encode() + b'"]}]}'
    )
    output = accord(db, "ingest", str(twice), "--as", ANALYST, code=1).output
    assert "'object_marking_refs' is given more than once at objects[0]" in output
    accord(db, "get", INDICATOR, "--as", ANALYST, code=1)


def test_cli_lookup_refuses_a_nul_byte(db: str) -> None:
    output = accord(db, "lookup", "198.51.100.7\x00", "--as", ANALYST, code=2).output
    assert "NUL" in output
    output = accord(db, "search", "198.51.100.7\x00", "--as", ANALYST, code=2).output
    assert "NUL" in output


def test_an_invalid_pattern_is_rejected_with_its_column(db: str, tmp_path: Path) -> None:
    bundle = _write(
        tmp_path / "patterns.json",
        {
            "type": "bundle",
            "objects": [
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": INDICATOR,
                    "created": STAMP,
                    "modified": STAMP,
                    "valid_from": STAMP,
                    "pattern": "[ipv4-addr:value = '1.2.3.4'",
                    "pattern_type": "stix",
                }
            ],
        },
    )
    output = accord(db, "ingest", str(bundle), "--as", ANALYST, "--json", code=1).stdout
    (summary,) = orjson.loads(output)
    (rejection,) = summary["rejections"]
    assert rejection["problems"] == [
        {
            "property": "pattern",
            "reason": "is not a valid STIX 2.1 pattern: "
            "1:28: mismatched input '<EOF>' expecting ']'",
        }
    ]


# -- item 12: a feed manifest names only files of its folder ------------------------------------


def _event(event_uuid: str, value: str) -> dict[str, Any]:
    return {
        "Event": {
            "uuid": event_uuid,
            "info": f"event {value}",
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {
                    "uuid": event_uuid[:-4] + "a771",
                    "type": "ip-dst",
                    "category": "Network activity",
                    "value": value,
                    "to_ids": True,
                }
            ],
        }
    }


def test_a_feed_manifest_cannot_name_files_outside_the_feed(db: str, tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    outside = _write(
        tmp_path / "outside.json", _event("5a1e0000-0000-4000-8000-0000000000a1", "198.51.100.91")
    )
    absolute = str(outside.with_suffix(""))
    good = "5a1e0000-0000-4000-8000-0000000000a2"
    _write(feed / f"{good}.json", _event(good, "198.51.100.92"))
    linked = "5a1e0000-0000-4000-8000-0000000000a3"
    (feed / f"{linked}.json").symlink_to(outside)
    _write(
        feed / "manifest.json",
        {
            "../outside": {"info": "a"},
            absolute: {"info": "b"},
            "not-a-uuid": {"info": "c"},
            good: {"info": "d"},
            linked: {"info": "e"},
        },
    )
    result = accord(db, "ingest", "misp", str(feed), "--as", ANALYST, "--json", code=1)
    summaries = orjson.loads(result.stdout)
    errors = [s["error"] for s in summaries if s["error"]]
    assert len(errors) == 4
    for name in ("'../outside'", repr(absolute), "'not-a-uuid'", repr(linked)):
        assert any(f"bad manifest entry {name}" in error for error in errors), (name, errors)
    assert sum(s["stored"] for s in summaries) > 0
    stored = [s for s in summaries if s["stored"]]
    assert [s["event"] for s in stored] == [good]  # the files outside the feed were never read
    found = orjson.loads(
        accord(db, "lookup", "198.51.100.91", "198.51.100.92", "--as", ANALYST, "--json").stdout
    )
    assert found[0]["reasons"] == [] and found[1]["reasons"] != []
