"""`accord ingest misp` and `accord export misp` end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pymisp import MISPEvent
from typer.testing import CliRunner

from accord.cli.main import app

runner = CliRunner()


def accord(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


def test_ingest_a_batch_with_a_broken_file_and_export(tmp_path: Path, shared_data: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    accord(db, "init")
    accord(db, "org", "add", "CERT-EX")
    accord(db, "user", "add", "analyst@cert.example", "--org", "CERT-EX")
    eset = shared_data / "eset-malware-ioc"
    result = accord(
        db,
        "ingest",
        "misp",
        str(eset / "sednit"),
        str(eset / "dnsbirthday"),
        str(eset / "sshdoor" / "misp-events" / "jakku.json"),
        "--as",
        "analyst@cert.example",
        "--tlp",
        "green",
        "--json",
        code=1,  # dnsbirthday is not MISP: reported, and the rest is stored
    )
    summaries = orjson.loads(result.stdout)
    errors = [s for s in summaries if s["error"]]
    assert len(errors) == 1 and "rqz-dnsduvel_blocklist.json" in errors[0]["error"]
    assert sum(s["stored"] for s in summaries) > 100
    assert len(summaries) == 5

    out = tmp_path / "events.json"
    accord(db, "export", "misp", "--as", "analyst@cert.example", "-o", str(out))
    events = orjson.loads(out.read_bytes())["response"]
    assert len(events) == 4
    for event in events:
        MISPEvent().load(event)
    one = accord(
        db,
        "export",
        "misp",
        "--as",
        "analyst@cert.example",
        "--report",
        "5bbe5b1c-2238-42b4-8a90-018b0a016219",
    )
    assert orjson.loads(one.stdout)["Event"]["info"] == "SSHDoor : Jakku"
    accord(db, "export", "misp", "--as", "analyst@cert.example", "--report", "nope", code=1)


def test_export_keeps_a_published_event_published(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    accord(db, "init")
    accord(db, "org", "add", "CERT-EX")
    accord(db, "user", "add", "analyst@cert.example", "--org", "CERT-EX")
    events = []
    for number, published in ((1, True), (2, False)):
        event = {
            "uuid": f"5c1f2a3e-7d7b-4d1a-9a55-0b6b2f0a1c0{number}",
            "info": f"event {number}",
            "date": "2026-01-05",
            "timestamp": "1767603600",
            "publish_timestamp": "1767607200" if published else "0",
            "published": published,
            "Attribute": [
                {
                    "uuid": f"5c1f2a3e-7d7b-4d1a-9a55-0b6b2f0a1d0{number}",
                    "type": "domain",
                    "category": "Network activity",
                    "value": f"c2-{number}.example.net",
                    "to_ids": True,
                }
            ],
        }
        events.append({"Event": event})
    source = tmp_path / "events.json"
    source.write_bytes(orjson.dumps({"response": events}))
    accord(db, "ingest", "misp", str(source), "--as", "analyst@cert.example", "--tlp", "green")
    out = accord(db, "export", "misp", "--as", "analyst@cert.example")
    exported = {e["Event"]["info"]: e["Event"] for e in orjson.loads(out.stdout)["response"]}
    assert exported["event 1"]["published"] is True
    assert exported["event 2"]["published"] is False
    for event in exported.values():
        MISPEvent().load({"Event": event})
