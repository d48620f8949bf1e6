"""MISP warninglists: hits on real IOC lists and notes, CIDR/hostname/string/substring/regex
list types, and the compiled index cached on disk and reused."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from accord.intel.warninglists import WarningLists
from accord.intel.warninglists.source import ListSource
from accord.model.observables import detect

REPO_CACHE = Path(__file__).resolve().parents[2] / "var" / "cache"


@pytest.fixture(scope="module")
def lists() -> WarningLists:
    # The full set that pymispwarninglists ships, compiled once into the repository's own
    # cache (var/, ignored by git) and reused by every later run.
    return WarningLists.load(REPO_CACHE)


def names(lists: WarningLists, value: str) -> set[str]:
    return {hit.list_name for hit in lists.check_value(value)}


def test_public_resolvers_and_private_ranges(lists: WarningLists) -> None:
    resolvers = "List of known IPv4 public DNS resolvers"
    assert resolvers in names(lists, "8.8.8.8")
    assert resolvers in names(lists, "1.1.1.1")
    hit = next(h for h in lists.check_value("8.8.8.8") if h.list_name == resolvers)
    assert (hit.matched, hit.category) == ("8.8.8.8", "false-positive")
    rfc1918 = [h for h in lists.check_value("192.168.10.20") if "RFC 1918" in h.list_name]
    assert [h.matched for h in rfc1918] == ["192.168.0.0/16"]
    # A network is on a CIDR list when one entry covers it whole.
    assert "List of RFC 1918 CIDR blocks" in names(lists, "10.20.0.0/16")
    assert "List of RFC 1918 CIDR blocks" not in names(lists, "10.0.0.0/7")
    assert "List of known IPv6 public DNS resolvers" in names(lists, "2001:4860:4860::8888")


def test_unit42_benign_traffic_is_flagged(lists: WarningLists, shared_data: Path) -> None:
    """The Unit 42 notes call api.ipify.org and checkip.dyndns.org traffic not malicious."""
    notes = shared_data / "reports" / "unit42-tti-notes"
    text = (notes / "2022-09-13-IOCs-for-Qakbot.txt").read_text()
    text += (notes / "2024-09-16-IOCs-for-Snake-KeyLogger.txt").read_text()
    text += (notes / "2021-07-12-IOCs-from-Hancitor-activity.txt").read_text()
    hosts = set(re.findall(r"port \d+ - (\S+) -", text))
    assert {"api.ipify[.]org", "api.ipify.org", "checkip.dyndns[.]org"} <= hosts
    for host in hosts:
        if "ipify" in host or "checkip" in host:
            assert "List of known domains to know external IP" in names(lists, host), host
    assert "List of known domains to know external IP" in names(
        lists, "hxxp://api.ipify[.]org/?format=xml"
    )


def test_hits_on_the_real_maltrail_ip_checker_trail(lists: WarningLists, shared_data: Path) -> None:
    trail = shared_data / "ioc-lists" / "maltrail" / "trails" / "static" / "suspicious"
    values = [
        line.split("#")[0].strip()
        for line in (trail / "ipinfo.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    flagged = [value for value in values if lists.check_value(value)]
    assert {"ipify.org", "2ip.ru", "aboutmyip.com"} <= set(flagged)
    assert len(flagged) >= len(values) // 2


def test_hostname_lists_match_by_suffix(lists: WarningLists) -> None:
    tranco = "Top 1,000,000 most-used sites from Tranco"
    hits = {h.list_name: h.matched for h in lists.check_value("deep.below.wikipedia.org")}
    assert hits[tranco] == "wikipedia.org"
    assert tranco not in names(lists, "notwikipedia-org-xyz-unlisted.example")
    assert "List of known dynamic DNS domains" in names(lists, "anything.dyndns.org")


def test_strings_hashes_substrings_and_regexes(lists: WarningLists) -> None:
    assert "List of known hashes for empty files" in names(
        lists, "D41D8CD98F00B204E9800998ECF8427E"
    )
    disposable = [h for h in lists.check_value("someone@0-mail.com") if "disposable" in h.list_name]
    assert [h.matched for h in disposable] == ["0-mail.com"]
    contact = [
        h for h in lists.check_value("abuse@example.org") if h.list_name.startswith("Common")
    ]
    assert contact and contact[0].matched.startswith("^(security|noc|soc|abuse)")
    assert lists.check_value("not an observable") == []
    observable = detect("evil-unlisted-c2-name-4711.top")
    assert observable is not None and lists.check(observable) == []


def _write_list(root: Path, name: str, **document: object) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "list.json").write_bytes(orjson.dumps({"name": name, **document}))


def test_cache_is_built_once_then_reused(tmp_path: Path) -> None:
    lists_dir = tmp_path / "lists"
    _write_list(lists_dir, "nets", type="cidr", list=["203.0.113.0/24", "2001:db8::/32"])
    _write_list(
        lists_dir,
        "hosts",
        type="hostname",
        list=[".example.net"],
        category="known",
        matching_attributes=["domain", "hostname", "url"],
    )
    _write_list(lists_dir, "words", type="substring", list=["phish"], matching_attributes=["url"])
    _write_list(
        lists_dir, "mail", type="regex", list=["/^noc\\@.*$/i"], matching_attributes=["email-src"]
    )
    _write_list(lists_dir, "exact", type="string", list=["HTTPS://Example.ORG"])
    source = ListSource(lists_dir, "test")
    cache = tmp_path / "cache"
    first = WarningLists.load(cache, source)
    assert first.info.built
    again = WarningLists.load(cache, source)
    assert not again.info.built and again.info.path == first.info.path
    assert list(cache.iterdir()) == [first.info.path]
    assert {h.matched for h in again.check_value("203.0.113.9")} == {"203.0.113.0/24"}
    assert [h.category for h in again.check_value("www.example.net")] == ["known"]
    assert [h.matched for h in again.check_value("http://a.example.net/x")] == ["example.net"]
    assert [h.matched for h in again.check_value("http://x.test/phishing")] == ["phish"]
    assert again.check_value("phish.test") == []  # the list applies to URLs only
    assert [h.list_name for h in again.check_value("NOC@example.com")] == ["mail"]
    assert [h.list_name for h in again.check_value("https://example.org")] == ["exact"]
    # A changed list file is a new index.
    _write_list(lists_dir, "nets", type="cidr", list=["198.51.100.0/24"])
    changed = WarningLists.load(cache, source)
    assert changed.info.built and changed.info.path != first.info.path
    assert changed.check_value("203.0.113.9") == []


def test_addresses_at_range_and_slash16_edges(tmp_path: Path) -> None:
    """An address is bisected among the range starts inside its own /16: addresses on either
    side of every range edge, and of /16 edges a range spans, answer as a plain membership
    test says."""
    import ipaddress
    import random

    networks = [
        "0.0.0.0/8",
        "10.0.255.0/24",
        "10.1.0.0/16",
        "10.2.0.128/25",
        "10.4.0.0/15",
        "192.0.2.7",
        "198.51.100.0/22",
        "255.255.255.0/24",
    ]
    lists_dir = tmp_path / "lists"
    _write_list(lists_dir, "nets", type="cidr", list=networks)
    lists = WarningLists.load(tmp_path / "cache", ListSource(lists_dir, "test"))
    parsed = [ipaddress.ip_network(n) for n in networks]
    probes: set[int] = set()
    for network in parsed:
        for edge in (int(network.network_address), int(network.broadcast_address) + 1):
            probes.update({edge - 1, edge, edge + 1, edge & ~0xFFFF, (edge | 0xFFFF) + 1})
    rng = random.Random(16)
    probes.update(rng.randrange(1 << 32) for _ in range(2000))
    for number in sorted(p for p in probes if 0 <= p < 1 << 32):
        address = ipaddress.ip_address(number)
        expected = {
            str(n) if n.prefixlen < 32 else str(n.network_address) for n in parsed if address in n
        }
        found = {hit.matched for hit in lists.check_value(str(address))}
        assert found == expected, address
        in_url = {hit.matched for hit in lists.check_value(f"http://{address}/x")}
        assert in_url == expected, address


def test_values_that_do_not_correlate(lists: WarningLists) -> None:
    """`BenignLists.warninglisted`: a value itself on a list this node uses; not one whose
    parent domain alone is listed, nor one on a list the node leaves out; and the same
    answer again from its memory."""
    from accord.intel.benign import BenignLists

    node = BenignLists(None, lists)  # type: ignore[arg-type]  # no allowlist is read here
    assert node.warninglisted("8.8.8.8")
    assert not node.warninglisted("11.2.3.4")
    assert not node.warninglisted("not a value")
    parent_only = "some-customer.dyndns.org"
    assert names(lists, parent_only) and not node.warninglisted(parent_only)
    assert node.warninglisted("8.8.8.8")  # remembered
    without = BenignLists(None, lists, frozenset(names(lists, "8.8.8.8")))  # type: ignore[arg-type]
    assert not without.warninglisted("8.8.8.8")
