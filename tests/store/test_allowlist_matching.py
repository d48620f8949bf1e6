"""One allowlist rule (`accord.store.allowlist_matching.AllowlistMatcher`) for the look-up's
benign check (`Allowlists.matches`) and for reading correlations (`Exclusions`): both give,
for the same entries and values, the answer of a reference written with the model's
normaliser alone (design principle 3: entries and values are normalised alike, so that two
spellings of one value meet). Written first against the two matchers this one replaced,
which agreed on every case here."""

from __future__ import annotations

import pytest

from accord.model.domains import parent_domains
from accord.model.observables import Observable, detect, normalise, supernets
from accord.model.visibility import Viewer
from accord.store.allowlist_matching import AllowlistMatcher
from accord.store.allowlists import parse_entry
from accord.store.correlation.exclusion import Exclusions
from accord.store.node import Store

# Each allowlist on its own (a catch-all network would cover every other address).
ALLOWLISTS: dict[str, list[str]] = {
    "mixed": [
        "partner.example",
        "*.cert.example",
        ".corp.example",
        "hxxp://intranet[.]example/login",
        "soc@partner.example",
        "D41D8CD98F00B204E9800998ECF8427E",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "192.0.2.7",
        "198.51.100.0/24",
        "10.1.2.3/8",
        "2001:db8::1",
        "2001:db8:abcd::/48",
    ],
    "all-ipv4": ["0.0.0.0/0"],
    "all-ipv6": ["::/0"],
    "mapped-ipv4": ["::ffff:0:0/96"],  # every IPv4 address, written as IPv6 (RFC 4291)
    "mapped-network": ["::ffff:198.51.100.0/120"],  # 198.51.100.0/24
    "around-mapped": ["::ffff:0:0/95"],  # an IPv6 network: IPv4 values are not in it
    "compatible": ["::/96"],  # deprecated IPv4-compatible block: IPv6
    "top-addresses": ["255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
}

VALUES = [
    # addresses and networks of both families
    "192.0.2.7",
    "192.0.2.8",
    "198.51.100.23",
    "198.51.100.128/25",
    "198.51.100.0/24",
    "198.51.0.0/16",
    "10.200.0.1",
    "10.0.0.0/8",
    "10.0.0.0/7",
    "0.0.0.0",
    "0.0.0.0/0",
    "0.0.0.1",
    "255.255.255.255",
    "::ffff:198.51.100.9",
    "::ffff:0:0/96",
    "::ffff:0:0/95",
    "::1.2.3.4",
    "::",
    "::1",
    "::/0",
    "::/96",
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8:abcd:1::5",
    "2001:db8:abcd::/48",
    "2001:db8:abcd::/47",
    "2001:db8::/32",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    # domains, exact and below a suffix
    "partner.example",
    "www.partner.example",
    "cert.example",
    "a.b.cert.example",
    "evilcert.example",
    "corp.example",
    "x.corp.example",
    # URLs and e-mail addresses, through their host
    "http://intranet.example/login",
    "http://intranet.example/other",
    "https://portal.cert.example/x",
    "http://partner.example/x",
    "http://198.51.100.7:8080/a",
    "http://192.0.2.7/",
    "http://[2001:db8::1]/x",
    "http://[2001:db8:abcd::9]/x",
    "http://[::ffff:198.51.100.9]/",
    "soc@partner.example",
    "other@partner.example",
    "x@cert.example",
    "y@other.example",
    # hashes
    "d41d8cd98f00b204e9800998ecf8427e",
    "0cc175b9c0f1b6a831c399e269772661",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
]


def reference(entries: list[str], observable: Observable) -> set[str]:
    """The entries (as displayed) that cover ``observable``, by the documented rule
    (docs/warninglists.md, "Organisation allowlists"), from the model alone: the same
    value; a network that is the value or one of its containing networks (`supernets`:
    canonical text of the value's own family); a suffix for the domain or a parent; for a
    URL or an e-mail address, the same for its host."""
    checked = [observable]
    if observable.kind in ("url", "email") and observable.host:
        host = detect(observable.host)
        if host is not None:
            checked.append(host)
    found: set[str] = set()
    for text in entries:
        entry, suffix = parse_entry(text)
        display = f"*.{entry.value}" if suffix else entry.value
        for item in checked:
            if suffix:
                if item.kind == "domain" and entry.value in (
                    item.value,
                    *parent_domains(item.value),
                ):
                    found.add(display)
            elif (entry.kind, entry.value) == (item.kind, item.value) or (
                entry.kind.endswith("-net") and entry.value in supernets(item)
            ):
                found.add(display)
    return found


def test_the_benign_check_and_the_correlation_reader_allowlist_alike(store: Store) -> None:
    disagreements: list[str] = []
    for number, (name, entries) in enumerate(ALLOWLISTS.items()):
        org = store.directory.add_org(f"Allowlist {number}", "government", "EX").id
        for text in entries:
            store.allowlists.add(org, text)
        with store.engine.connect() as conn:
            keep = Exclusions(conn, Viewer(org_id=org), None)
        for value in VALUES:
            observable = detect(value)
            assert observable is not None, value
            expected = reference(entries, observable)
            benign = {entry.display for entry in store.allowlists.matches(org, observable)}
            # The reader sees an indexed value as text: its canonical form.
            excluded = keep.excluded(observable.value)
            if benign != expected or excluded != bool(expected):
                disagreements.append(
                    f"{name} {value}: reference {sorted(expected)}, benign check "
                    f"{sorted(benign)}, correlation reader {excluded}"
                )
    assert disagreements == []


@pytest.mark.parametrize(
    ("kind", "value", "entry"),
    [
        ("ipv4", "198.51.100.9", "198.51.100.0/24"),
        ("ipv4-net", "198.51.100.0/25", "::ffff:198.51.100.0/120"),
        ("ipv6", "::ffff:198.51.100.9", "198.51.100.0/24"),
        ("ipv6-net", "2001:db8:abcd::/64", "2001:db8::/32"),
        ("domain", "WWW.Cert.Example.", "*.cert.example"),
    ],
)
def test_a_value_of_a_given_kind_is_allowlisted_as_detected(
    store: Store, kind: str, value: str, entry: str
) -> None:
    """A look-up names the kind; the same text normalises to the same observable."""
    org = store.directory.add_org("Kinds", "government", "EX").id
    store.allowlists.add(org, entry)
    observable = normalise(kind, value)
    expected = reference([entry], observable)
    assert expected
    assert {e.display for e in store.allowlists.matches(org, observable)} == expected


def test_same_value_entries_come_first_then_networks_in_entry_order() -> None:
    """The benign check lists the hits in this order (the look-up's ``lists``)."""
    rows = [
        ((entry.kind, entry.value, False, entry.lo, entry.hi), entry.value)
        for entry in (normalise("ipv4-net", "0.0.0.0/0"), normalise("ipv4-net", "10.0.0.0/8"))
    ]
    matcher = AllowlistMatcher(rows)
    assert matcher.matches(normalise("ipv4-net", "10.0.0.0/8")) == ["10.0.0.0/8", "0.0.0.0/0"]
    assert matcher.matches(normalise("ipv4", "10.9.9.9")) == ["0.0.0.0/0", "10.0.0.0/8"]
    assert matcher.covers(normalise("ipv4", "10.9.9.9"))
    assert not matcher.covers(normalise("ipv6", "2001:db8::1"))


def test_a_network_stored_without_bounds_is_normalised_again() -> None:
    matcher = AllowlistMatcher([(("ipv6-net", "2001:db8::/32", False, None, None), "net")])
    assert matcher.matches(normalise("ipv6", "2001:db8::5")) == ["net"]
    assert not AllowlistMatcher([])
