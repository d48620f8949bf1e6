"""The compiled matcher: each way a telemetry value can hit an indicator."""

from __future__ import annotations

import pytest

from accord.match.matcher import Entry, Target, compile_matcher, url_probes
from accord.model.observables import normalise

INDICATORS = [
    ("domain", "evil.example"),
    ("ipv4", "203.0.113.9"),
    ("ipv4-net", "198.51.100.0/24"),
    ("ipv6-net", "2001:db8::/32"),
    ("url", "http://bad.test/kit/"),
    ("email", "boss@phish.test"),
    ("sha256", "a" * 64),
    ("domain", "phish.test"),
]


@pytest.fixture(scope="module")
def matcher():  # type: ignore[no-untyped-def]
    targets = [Target(f"indicator--{n}", f"#{n}", "green") for n in range(len(INDICATORS) + 1)]
    entries = [Entry(normalise(kind, value), n) for n, (kind, value) in enumerate(INDICATORS)]
    patterns = [(len(INDICATORS), "[domain-name:value LIKE '%.pattern.example']", "2.1")]
    return compile_matcher(targets, entries, patterns)


def _hits(matcher, kind: str, value: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(h.relation, h.via, h.target.id) for h in matcher.value_hits(normalise(kind, value))]


def test_exact_and_parent_domains(matcher) -> None:  # type: ignore[no-untyped-def]
    assert _hits(matcher, "domain", "evil.example") == [("exact", "evil.example", "indicator--0")]
    assert _hits(matcher, "domain", "A.B.Evil.Example.") == [
        ("parent-domain", "evil.example", "indicator--0")
    ]
    assert _hits(matcher, "domain", "notevil.example") == []
    assert _hits(matcher, "domain", "example") == []


def test_addresses_and_networks(matcher) -> None:  # type: ignore[no-untyped-def]
    assert _hits(matcher, "ipv4", "203.0.113.9") == [("exact", "203.0.113.9", "indicator--1")]
    assert _hits(matcher, "ipv4", "198.51.100.77") == [("cidr", "198.51.100.0/24", "indicator--2")]
    assert _hits(matcher, "ipv4", "198.51.101.1") == []
    assert _hits(matcher, "ipv6", "2001:db8:5::1") == [("cidr", "2001:db8::/32", "indicator--3")]
    assert _hits(matcher, "ipv4-net", "198.51.100.128/25") == [
        ("cidr", "198.51.100.0/24", "indicator--2")
    ]
    assert _hits(matcher, "ipv4-net", "198.51.0.0/16") == []  # wider than the indicator


def test_urls_by_prefix_and_host(matcher) -> None:  # type: ignore[no-untyped-def]
    assert ("url-prefix", "bad.test/kit/", "indicator--4") in _hits(
        matcher, "url", "https://cdn.bad.test/kit/gate.php?id=1"
    )
    assert _hits(matcher, "url", "http://bad.test/other/") == []
    assert _hits(matcher, "url", "http://www.evil.example/x") == [
        ("url-host", "evil.example", "indicator--0")
    ]
    assert _hits(matcher, "url", "http://203.0.113.9:8080/a") == [
        ("url-host", "203.0.113.9", "indicator--1")
    ]


def test_email_hashes_and_patterns(matcher) -> None:  # type: ignore[no-untyped-def]
    assert _hits(matcher, "email", "boss@phish.test") == [
        ("exact", "boss@phish.test", "indicator--5"),
        ("email-domain", "phish.test", "indicator--7"),
    ]
    assert _hits(matcher, "sha256", "A" * 64) == [("exact", "a" * 64, "indicator--6")]
    assert _hits(matcher, "domain", "x.pattern.example") == [
        ("pattern", "x.pattern.example", "indicator--8")
    ]


def test_the_dns_fast_path_reads_bytes_as_logs_write_them(matcher) -> None:  # type: ignore[no-untyped-def]
    assert [(r, n) for r, n, _ in matcher.domain_hits(b"WWW.evil.example.")] == [
        ("parent-domain", b"evil.example")
    ]
    assert matcher.domain_hits(b"example.org") == []


def test_url_probes_follow_safe_browsing() -> None:
    probes = url_probes(normalise("url", "http://a.b.c.example.com/1/2/3.html?x=1"))
    assert probes[0] == "a.b.c.example.com/1/2/3.html"
    assert "example.com/" in probes and "c.example.com/1/2/" in probes
    assert all(not probe.startswith("com/") for probe in probes)
