"""The exports sensors load (docs/exports.md): each format checked by what reads it (a rule
parser, named-checkzone, Zeek's documented header), the leak matrix in every format, what is
left out and why, hostile values, stable SIDs (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from accord.export.indicator_items import (
    BadExportQuery,
    ExportItem,
    ExportQuery,
    Tally,
    parse_since,
    parse_types,
)
from accord.export.sensors import formats
from accord.export.sensors.rpz import ip_trigger
from accord.export.sensors.suricata import SID_BLOCK, SidAllocator, SuricataWriter
from accord.export.sensors.text import Heading
from accord.model.observables import normalise
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.node import Store
from community import Community
from leakdata import ADDRESS, DOMAIN, EXPECTED, NETWORK, VIEWERS, load_matrix
from sensor_support import (
    NAMED_CHECKZONE,
    check_zone,
    contents,
    indicator,
    metadata,
    parse_rules,
    read_zeek_intel,
    run_export,
    store_indicators,
)

HOSTILE = [
    # A URL as a feed may send it: quotes, semicolons, pipes, a backslash, non-ASCII.
    "[url:value = 'http://evil.example/a\";b|c\\\\d?x=1;sid:1;' ]",
    "[url:value = 'https://xn--bcher-kva.example/\u00fc\u00e9 \"x\"']",
    "[domain-name:value = 'under_score-1.evil.example']",
    "[email-addr:value = 'boss@evil.example']",
    "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']",
    "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']",
    "[file:hashes.'SHA-512' = '" + "cd" * 64 + "']",
    "[ipv6-addr:value = '2001:db8::7']",
    "[ipv6-addr:value = '2001:db8:0:1::/64']",
]


@pytest.fixture
def hostile(store: Store, community: Community) -> Store:
    objects = [
        indicator(
            number,
            pattern,
            name=f'name {number}\n\t"quoted"; ;| \\ =cmd\u2028 ünï',
        )
        for number, pattern in enumerate(HOSTILE)
    ]
    store_indicators(store, community.analyst, objects)
    return store


# -- the leak matrix, in every format ----------------------------------------------------------


@pytest.mark.parametrize("format", formats.FORMATS)
def test_no_line_from_an_object_the_viewer_may_not_see(
    store: Store, community: Community, format: str
) -> None:
    viewers = load_matrix(store, community)
    for name in VIEWERS:
        text, tally = run_export(store, viewers[name], format)
        for level in Tlp:
            expected = name in EXPECTED[level]
            marker = str(indicator(0, "")["id"])  # not in the matrix: a sanity check below
            assert marker not in text
            found = {
                "domain": DOMAIN[level] in text,
                "id": f"-00000000000{int(level)}" in text,
            }
            if format in ("suricata", "zeek-intel", "rpz", "csv"):
                found["address"] = (
                    ADDRESS[level] in text or ".".join(reversed(ADDRESS[level].split("."))) in text
                )
                found["network"] = (
                    NETWORK[level].split("/")[0] in text
                    or ".".join(reversed(NETWORK[level].split("/")[0].split("."))) in text
                )
            for what, seen in found.items():
                assert seen == expected, f"{format}: {name} {what} of {level.label}: {seen}"
            if expected:
                assert level.label in text
        # Hidden objects are not counted either: the trailer says nothing of them.
        left_out = sum(tally.left_out.values())
        visible_levels = sum(1 for level in Tlp if name in EXPECTED[level])
        assert tally.exported + left_out <= 3 * visible_levels


# -- Suricata ------------------------------------------------------------------------------


def test_suricata_rules_parse_and_carry_their_values_exactly(
    hostile: Store, community: Community
) -> None:
    viewer = hostile.directory.viewer(community.operator)
    text, tally = run_export(hostile, viewer, "suricata")
    rules = parse_rules(text)
    by_kind: dict[str, list[object]] = {}
    for rule in rules:
        by_kind.setdefault(metadata(rule).get("accord_kind", "list"), []).append(rule)
    # the domain: DNS, TLS and HTTP, each "the name or below" through dotprefix
    domains = by_kind["domain"]
    assert [r.action + " " + r.proto for r in domains] == ["alert dns", "alert tls", "alert http"]  # type: ignore[attr-defined]
    for rule in domains:
        assert contents(rule) == [b".under_score-1.evil.example"]
        assert "dotprefix" in [o["name"] for o in rule.options]  # type: ignore[attr-defined]
    # hostile URLs: host and URI back to the bytes the URL names, nothing escaped the quotes
    urls = {tuple(contents(rule)) for rule in by_kind["url"]}
    assert (b"evil.example", b'/a";b|c\\d?x=1;sid:1;') in urls
    assert (b"xn--bcher-kva.example", '/üé "x"'.encode()) in urls
    # IPv6 address and network as IP-only rules
    assert {r.dest_addr for r in by_kind["ipv6"] + by_kind["ipv6-net"]} == {  # type: ignore[attr-defined]
        "[2001:db8::7]",
        "[2001:db8:0:1::/64]",
    }
    # hashes go to list files, named by one rule per protocol and list
    lists = {o["value"] for r in by_kind["list"] for o in r.options if o["name"].startswith("file")}  # type: ignore[attr-defined]
    assert lists == {"accord-md5.list", "accord-sha256.list"}
    # SHA-512 and e-mail addresses have no keyword: not even read
    assert not tally.left_out and "cdcdcdcd" not in text and "boss@" not in text
    assert all(metadata(r)["tlp"] == "green" for r in rules if "accord_indicator" in metadata(r))


def test_suricata_rules_parse_with_suricataparser_too(hostile: Store, community: Community) -> None:
    suricataparser = pytest.importorskip("suricataparser")
    text, _ = run_export(hostile, hostile.directory.viewer(community.operator), "suricata")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parsed = suricataparser.parse_rule(line)
            assert parsed is not None and parsed.sid >= 3_000_000_000


def test_sids_stay_when_indicators_are_added(store: Store, community: Community) -> None:
    viewer = store.directory.viewer(community.operator)
    store_indicators(store, community.analyst, [indicator(1, "[domain-name:value = 'a.example']")])
    before = {
        metadata(r)["accord_indicator"] + str(r.sid)
        for r in parse_rules(run_export(store, viewer, "suricata")[0])
    }  # type: ignore[attr-defined]
    store_indicators(
        store,
        community.analyst,
        [indicator(n, f"[domain-name:value = 'n{n}.example']") for n in range(2, 40)],
    )
    after = {
        metadata(r)["accord_indicator"] + str(r.sid)
        for r in parse_rules(run_export(store, viewer, "suricata")[0])
    }  # type: ignore[attr-defined]
    assert before <= after and len(after) == 3 * 39


def test_a_sid_collision_takes_the_next_free_block() -> None:
    item = _item("ipv4", "198.51.100.1")
    sids = SidAllocator()
    first = sids.block(item)
    second = sids.block(item)  # the same key: its block is taken
    assert second == first + SID_BLOCK and sids.collisions == 1


def _item(kind: str, value: str, number: int = 1) -> ExportItem:
    return ExportItem(
        seq=number,
        indicator_id=f"indicator--11111111-0000-4000-8000-{number:012d}",
        modified="2026-01-01T00:00:00.000000Z",
        tlp=Tlp.AMBER,
        name="n",
        observable=normalise(kind, value),
        score=70,
        confidence=None,
        valid_from=None,
        valid_until=None,
        first_seen=None,
        last_seen=None,
    )


def test_beyond_the_threshold_addresses_go_to_datasets() -> None:
    rules: list[str] = []
    lists: dict[str, list[str]] = {}
    writer = SuricataWriter(
        rules.append, lambda name: lists.setdefault(name, []).append, Tally(), threshold=3
    )
    writer.begin(Heading("suricata", "t", 1))
    for number in range(5):
        writer.add(_item("ipv4", f"198.51.100.{number}", number))
    writer.add(_item("ipv4-net", "203.0.113.0/24", 9))
    writer.end()
    text = "\n".join(rules) + "\n"
    parsed = parse_rules(text)
    datasets = [r for r in parsed if any(o["name"] == "dataset" for o in r.options)]
    assert len(datasets) == 2  # source and destination, IPv4 only
    assert "type ipv4,load accord-ipv4.lst" in datasets[0].raw
    assert lists == {"accord-ipv4.lst": [f"198.51.100.{n}" for n in range(5)]}
    # each dataset value named with its indicator in the rules file; the network stays a rule
    assert text.count("# dataset accord-ipv4: 198.51.100.") == 5
    assert sum(1 for r in parsed if r.dest_addr == "[203.0.113.0/24]") == 1


# -- Zeek ----------------------------------------------------------------------------------


def test_zeek_intel_file_has_the_documented_header_and_types(
    hostile: Store, community: Community
) -> None:
    text, tally = run_export(hostile, hostile.directory.viewer(community.operator), "zeek-intel")
    rows = read_zeek_intel(text)
    types = {row["indicator"]: row["indicator_type"] for row in rows}
    assert types["under_score-1.evil.example"] == "Intel::DOMAIN"
    assert types["boss@evil.example"] == "Intel::EMAIL"
    assert types["2001:db8::7"] == "Intel::ADDR"
    assert types["2001:db8:0:1::/64"] == "Intel::SUBNET"
    assert types["0123456789abcdef0123456789abcdef"] == "Intel::FILE_HASH"
    # URLs without the scheme, as Zeek's HTTP script builds them
    assert 'evil.example/a";b|c\\d?x=1;sid:1;' in types
    for row in rows:
        assert row["meta.source"] == "Accord"
        assert (
            row["meta.desc"].startswith("indicator--11111111-") and "TLP:GREEN" in row["meta.desc"]
        )
    assert not tally.left_out and "cdcdcdcd" not in text  # SHA-512: no Zeek type, not read


# -- RPZ -----------------------------------------------------------------------------------


@pytest.mark.skipif(NAMED_CHECKZONE is None, reason="named-checkzone (Debian bind9-utils) absent")
def test_rpz_zone_passes_named_checkzone(
    hostile: Store, community: Community, tmp_path: Path
) -> None:
    viewers = load_matrix(hostile, community)
    text, tally = run_export(hostile, viewers["creator"], "rpz")
    verdict = check_zone(text, tmp_path)
    assert "loaded serial 7" in verdict and "OK" in verdict
    assert "under_score-1.evil.example CNAME ." in text
    assert "*.under_score-1.evil.example CNAME ." in text
    assert "128.7.zz.db8.2001.rpz-ip CNAME ." in text
    assert "64.zz.1.0.db8.2001.rpz-ip CNAME ." in text
    assert "32.14.100.51.198.rpz-ip CNAME ." in text  # RED, the creator's own
    assert tally.exported == 3 * 5 + 3


def test_rpz_ip_triggers() -> None:
    assert ip_trigger("198.51.100.7") == "32.7.100.51.198"
    assert ip_trigger("203.0.113.0/24") == "24.0.113.0.203"
    assert ip_trigger("2001:db8::7") == "128.7.zz.db8.2001"
    assert ip_trigger("2001:db8:0:0:1:0:0:1") == "128.1.0.0.1.zz.db8.2001"
    assert ip_trigger("::1") == "128.1.zz"
    assert ip_trigger("not an address") is None


# -- hosts and CSV -------------------------------------------------------------------------


def test_hosts_file_names_each_domain_with_its_indicator(
    hostile: Store, community: Community
) -> None:
    text, tally = run_export(hostile, hostile.directory.viewer(community.operator), "hosts")
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert entries == [
        "0.0.0.0 under_score-1.evil.example # indicator--11111111-0000-4000-8000-000000000002 "
        "TLP:GREEN score 50 \"name 2 'quoted'; ;| \\ =cmd ?n?\""
    ]
    assert tally.exported == 1 and not tally.left_out


def test_csv_reads_back_and_defuses_formulas(hostile: Store, community: Community) -> None:
    text, tally = run_export(hostile, hostile.directory.viewer(community.operator), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == tally.exported == len(HOSTILE)
    by_value = {row["value"]: row for row in rows}
    url = by_value['http://evil.example/a";b|c\\d?x=1;sid:1;']
    assert url["type"] == "url" and url["tlp"] == "TLP:GREEN"
    assert url["indicator_id"] == "indicator--11111111-0000-4000-8000-000000000000"
    assert url["name"].startswith("name 0\n\t")  # kept whole, quoted by the CSV writer
    formula = io.StringIO()
    csv.writer(formula).writerow(
        [formats.csv_table.cell("=HYPERLINK(1)"), formats.csv_table.cell("-1")]
    )
    assert formula.getvalue() == "'=HYPERLINK(1),'-1\r\n"


# -- what is left out --------------------------------------------------------------------------


def test_revoked_expired_complex_and_low_scores_are_left_out(
    store: Store, community: Community
) -> None:
    objects = [
        indicator(1, "[domain-name:value = 'live.example']", confidence=90),
        indicator(2, "[domain-name:value = 'revoked.example']", revoked=True),
        indicator(3, "[domain-name:value = 'expired.example']", valid_until="2026-01-02T00:00:00Z"),
        indicator(4, "[domain-name:value = 'window.example'] WITHIN 60 SECONDS"),
        indicator(5, "[domain-name:value = 'weak.example']", confidence=10),
    ]
    store_indicators(store, community.analyst, objects)
    viewer = store.directory.viewer(community.operator)
    text, tally = run_export(store, viewer, "hosts")
    assert "live.example" in text and "weak.example" in text
    for gone in ("revoked.example", "expired.example", "window.example"):
        assert gone not in text
    assert tally.left_out == {
        "revoked indicator": 1,
        "expired indicator (valid_until passed)": 1,
        "pattern is more than equalities": 1,
    }
    text, tally = run_export(store, viewer, "hosts", ExportQuery(min_score=40))
    assert "live.example" in text and "weak.example" not in text
    assert tally.left_out["score below 40"] == 1


def test_amber_strict_reaches_its_audience_only(store: Store, community: Community) -> None:
    store_indicators(
        store,
        community.analyst,
        [indicator(1, "[domain-name:value = 'strict.example']")],
        tlp=Tlp.AMBER_STRICT,
        recipients=Recipients(org_ids=frozenset({community.police.id})),
    )
    d = store.directory
    assert "strict.example" in run_export(store, d.viewer(community.investigator), "csv")[0]
    assert "strict.example" in run_export(store, d.viewer(community.colleague), "csv")[0]
    assert "strict.example" not in run_export(store, d.viewer(community.operator), "csv")[0]


def test_types_and_since_are_read_with_clear_errors() -> None:
    assert parse_types(["ipv4,domain"]) == {"ipv4", "ipv4-net", "domain"}
    assert parse_types(["hash"]) >= {"md5", "sha256"}
    with pytest.raises(BadExportQuery) as caught:
        parse_types(["ipv4,nonsense"])
    assert caught.value.parameter == "type" and "'nonsense'" in caught.value.detail
    assert parse_since("2026-02-01") == "2026-02-01T00:00:00.000000Z"
    with pytest.raises(BadExportQuery, match="since"):
        parse_since("yesterday")
    with pytest.raises(BadExportQuery, match="min_score"):
        ExportQuery(min_score=101)
