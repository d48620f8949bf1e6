"""What the sensor-export tests share: indicators to store, an export run to text, and readers
that check each format as its consumer would (a Suricata rule parser, Zeek's intel header,
named-checkzone)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import idstools.rule
import orjson

from accord.export.indicator_items import ExportQuery, IndicatorExport, Tally
from accord.export.sensors import formats
from accord.export.sensors.suricata import SID_BASE, SID_SPACE
from accord.export.sensors.text import Heading
from accord.export.sensors.zeek_intel import FIELDS, ZEEK_TYPES
from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.export_judge import ExportJudge
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.node import Store
from accord.store.organisations import User

NOW = datetime.now(UTC)


def indicator(number: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--11111111-0000-4000-8000-{number:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"indicator {number}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


def store_indicators(
    store: Store,
    user: User,
    objects: list[dict[str, Any]],
    tlp: Tlp = Tlp.GREEN,
    recipients: Recipients | None = None,
) -> None:
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})
    options = IngestOptions(tlp=tlp, recipients=recipients or Recipients())
    report = Ingester(store, user).ingest_bytes(data, "test", options)
    assert report.ok, report.summary()


def run_export(
    store: Store, viewer: Viewer, format: str, query: ExportQuery | None = None
) -> tuple[str, Tally]:
    """The export's text (for Suricata, the rules), and its tally."""
    export = IndicatorExport(
        store,
        viewer,
        formats.for_format(format, query or ExportQuery()),
        ExportJudge(None, NOW),
        NOW,
    )
    heading = Heading(format, "test", 7)
    text = "".join(formats.render(format, export.items(), export.tally, heading))
    return text, export.tally


# -- Suricata ------------------------------------------------------------------------------

_OPTION_NAMES = {
    "msg",
    "dns.query",
    "tls.sni",
    "http.host",
    "http.uri",
    "dotprefix",
    "content",
    "nocase",
    "startswith",
    "endswith",
    "metadata",
    "sid",
    "rev",
    "dataset",
    "ip.src",
    "ip.dst",
    "filemd5",
    "filesha1",
    "filesha256",
}


def decode_content(text: str) -> bytes:
    """A quoted ``content`` value back to its bytes (``|xx xx|`` hex runs)."""
    assert text.startswith('"') and text.endswith('"'), text
    inner = text[1:-1]
    out = bytearray()
    for position, part in enumerate(inner.split("|")):
        if position % 2:
            out += bytes.fromhex(part)
        else:
            assert '"' not in part and ";" not in part and "\\" not in part, part
            out += part.encode()
    return bytes(out)


def parse_rules(text: str) -> list[Any]:
    """Every rule of a rules file through idstools' parser, with checks of our own that the
    parser is too lenient to make: one rule per line, only the options we write, each quoted
    string closed, sid in Accord's range and unique, rev a number."""
    rules = []
    sids: set[int] = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        rule = idstools.rule.parse(line)
        assert rule is not None, f"idstools cannot parse: {line}"
        assert line.endswith(";)"), line
        names = [option["name"] for option in rule.options]
        assert set(names) <= _OPTION_NAMES, names
        assert names.count("sid") == 1 and names.count("rev") == 1 and names[0] == "msg"
        msg = rule.options[0]["value"]
        assert re.fullmatch(r'"[\x20-\x7e]*"', msg) and not re.search(r"[;|\\]", msg[1:-1])
        assert SID_BASE <= rule.sid < SID_BASE + SID_SPACE, rule.sid
        assert rule.sid not in sids, f"sid {rule.sid} twice"
        sids.add(rule.sid)
        assert isinstance(rule.rev, int) and rule.rev > 0
        rules.append(rule)
    return rules


def contents(rule: Any) -> list[bytes]:
    return [decode_content(o["value"]) for o in rule.options if o["name"] == "content"]


def metadata(rule: Any) -> dict[str, str]:
    found = {}
    for option in rule.options:
        if option["name"] == "metadata":
            for pair in option["value"].split(","):
                key, _, value = pair.strip().partition(" ")
                found[key] = value
    return found


# -- Zeek ----------------------------------------------------------------------------------


def read_zeek_intel(text: str) -> list[dict[str, str]]:
    """The Intel Framework file as Zeek's ASCII input reader takes it: the ``#fields``
    header first, tab-separated fields, ``#`` lines skipped; each row checked."""
    lines = text.split("\n")
    assert lines[-1] == "", "the file ends with a newline"
    header = lines[0].split("\t")
    assert header == ["#fields", *FIELDS]
    rows = []
    for line in lines[1:-1]:
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) == len(FIELDS), line
        assert all(fields) and not any(re.search(r"[\x00-\x1f\x7f]", f) for f in fields)
        row = dict(zip(FIELDS, fields, strict=True))
        assert row["indicator_type"] in set(ZEEK_TYPES.values()), row
        rows.append(row)
    return rows


# -- RPZ -----------------------------------------------------------------------------------

NAMED_CHECKZONE = shutil.which("named-checkzone")


def check_zone(text: str, tmp_path: Path, origin: str = "rpz.accord.test") -> str:
    """named-checkzone's verdict on the zone (the test skips without it)."""
    assert NAMED_CHECKZONE is not None
    zone = tmp_path / "accord-rpz.zone"
    zone.write_text(text)
    done = subprocess.run(
        [NAMED_CHECKZONE, "-i", "local", origin, str(zone)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
