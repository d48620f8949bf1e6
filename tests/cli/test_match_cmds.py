"""`accord match`: logs against what the user may see, hits as JSON lines, sightings back."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.cli.main import app

runner = CliRunner()
ANALYST = "analyst@cert.example"
OTHER = "soc@water.example"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def accord(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def _indicator(number: int, pattern: str, marking: str = GREEN, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--7a1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c{number:02d}",
        "created": "2026-01-05T09:00:00.000Z",
        "modified": "2026-01-05T09:00:00.000Z",
        "name": f"indicator {number}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-05T09:00:00Z",
        "object_marking_refs": [marking],
        **extra,
    }


INDICATORS = [
    _indicator(1, "[domain-name:value = 'evil.example']"),
    _indicator(2, "[ipv4-addr:value = '45.33.32.0/24']"),
    _indicator(3, "[url:value = 'http://kit.example/gate/']"),
    _indicator(4, "[domain-name:value = 'amber.example']", AMBER),  # CERT-EX's own audience
]
ID = [str(item["id"]) for item in INDICATORS]


def _ingest(db: str, tmp_path: Path, objects: list[dict[str, Any]], name: str = "b.json") -> None:
    bundle = {"type": "bundle", "id": "bundle--7a1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c00"}
    (tmp_path / name).write_bytes(orjson.dumps({**bundle, "objects": objects}))
    accord("--db", db, "ingest", "stix", str(tmp_path / name), "--as", ANALYST)


@pytest.fixture
def db(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ACCORD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ACCORD_WARNINGLISTS", "0")
    accord("--db", store_url, "init")
    for org in ("CERT-EX", "Water"):
        accord("--db", store_url, "org", "add", org)
    accord("--db", store_url, "user", "add", ANALYST, "--org", "CERT-EX", "--role", "analyst")
    accord("--db", store_url, "user", "add", OTHER, "--org", "Water", "--role", "analyst")
    _ingest(store_url, tmp_path, INDICATORS)
    return store_url


ZEEK_DNS = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n"
    "1700000000.0\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\twww.Evil.example\t45.33.32.7\n"
    "1700000001.0\tC2\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tgood.example\t1.2.3.4\n"
    "1700000002.0\tC3\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tamber.example\t-\n"
    "this line is broken\n"
)
SQUID = (
    "1700000000.123    250 10.0.0.9 TCP_MISS/200 5120 GET http://cdn.kit.example/gate/x.php "
    "- HIER_DIRECT/203.0.113.10 text/html\n"
)


def _hits(output: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]


def _match(db: str, *args: str, code: int = 0, user: str = ANALYST) -> Any:
    result = runner.invoke(app, ["--db", db, "match", *args, "--as", user, "--no-progress"])
    assert result.exit_code == code, result.output
    return result


def test_a_zeek_dns_log_hits_by_parent_domain_and_network(db: str, tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text(ZEEK_DNS)
    result = _match(db, str(log))
    hits = _hits(result.stdout)
    found = {
        (h["line"], h["field"], h["indicators"][0]["id"], h["indicators"][0]["relation"])
        for h in hits
    }
    assert found == {
        (8, "query", ID[0], "parent-domain"),
        (8, "answers", ID[1], "cidr"),
        (10, "query", ID[3], "exact"),
    }
    assert hits[0]["indicators"][0]["tlp"] == "green"
    assert "dns.log:11: " in result.stderr  # the broken line is reported, matching went on
    assert "3 hits on 3 indicators" in result.stderr


def test_another_organisation_gets_no_hit_from_what_it_may_not_see(db: str, tmp_path: Path) -> None:
    log = tmp_path / "dns.log.gz"
    log.write_bytes(gzip.compress(ZEEK_DNS.encode()))  # gzip, told by its first bytes
    hits = _hits(_match(db, str(log), user=OTHER).stdout)
    assert ID[3] not in {i["id"] for h in hits for i in h["indicators"]}
    assert {h["line"] for h in hits} == {8}


def test_a_proxy_log_hits_by_url_prefix_and_a_pattern(db: str, tmp_path: Path) -> None:
    _ingest(db, tmp_path, [_indicator(5, "[url:value LIKE '%/x.php']")], "like.json")
    log = tmp_path / "access.log"
    log.write_text(SQUID)
    hits = _hits(_match(db, str(log), "--format", "squid").stdout)
    relations = {(i["id"], i["relation"]) for h in hits for i in h["indicators"]}
    assert (ID[2], "url-prefix") in relations
    assert ("indicator--7a1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c05", "pattern") in relations


def test_exit_codes_and_an_unreadable_input(db: str, tmp_path: Path) -> None:
    log = tmp_path / "quiet.log"
    log.write_text(SQUID.replace("kit.example", "fine.example"))
    assert _hits(_match(db, str(log)).stdout) == []  # no hits: 0
    noisy = tmp_path / "noisy.log"
    noisy.write_text(SQUID)
    # One input cannot be read: the others are matched, and the exit code says so.
    result = _match(db, str(tmp_path / "missing.log"), str(noisy), code=1)
    assert "missing.log: No such file or directory" in result.stderr
    assert ID[2] in result.stdout
    _match(db, str(log), "--format", "nonsense", code=2)


def test_the_matcher_is_cached_refreshed_and_rebuilt(db: str, tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text(ZEEK_DNS)
    assert "built" in _match(db, str(log)).stderr
    assert "cached" in _match(db, str(log)).stderr
    _ingest(db, tmp_path, [_indicator(6, "[domain-name:value = 'good.example']")], "new.json")
    second = _match(db, str(log))
    assert "refreshed" in second.stderr
    assert "indicator--7a1e1b1c-56a4-4bb4-8f3e-2d1b7f0a0c06" in second.stdout
    revoked = {**INDICATORS[0], "modified": "2026-01-06T09:00:00.000Z", "revoked": True}
    _ingest(db, tmp_path, [revoked], "revoked.json")
    third = _match(db, str(log))
    assert "built" in third.stderr
    assert ID[0] not in third.stdout


def test_since_matches_only_newer_intelligence(db: str, tmp_path: Path) -> None:
    # Stored here after `cut` (the others were stored before it and modified long before).
    cut = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.01)
    later = _indicator(7, "[domain-name:value = 'good.example']")
    _ingest(db, tmp_path, [later], "later.json")
    log = tmp_path / "dns.log"
    log.write_text(ZEEK_DNS)
    hits = _hits(_match(db, str(log), "--since", cut).stdout)
    assert [i["id"] for h in hits for i in h["indicators"]] == [str(later["id"])]
    _match(db, str(log), "--since", "yesterday", code=2)


def test_sight_posts_aggregated_sightings_that_the_look_up_counts(db: str, tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text(ZEEK_DNS + ZEEK_DNS.split("\n", 7)[7])  # the data lines twice
    _match(db, str(log), "--sight")

    def sightings(user: str) -> int:
        [answer] = orjson.loads(
            accord("--db", db, "lookup", "evil.example", "--as", user, "--json").stdout
        )
        return int(answer["sightings"])

    assert sightings(ANALYST) == 2  # one sighting, seen twice, at the node's default TLP
    assert sightings(OTHER) == 0  # ... which is not for another organisation's eyes
    # An anonymous sighting is counted for everyone who may see the indicator.
    _match(db, str(log), "--sight", "--anonymous")
    assert sightings(OTHER) == 2
