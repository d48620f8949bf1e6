"""Observable normalisation, detection and extraction from STIX objects."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.model.addresses import parse_address, v6_text
from accord.model.observables import (
    IndexedObservable,
    Observable,
    ObservableError,
    detect,
    hash_kind,
    kind_for_hash_name,
    normalise,
    observables_from_object,
    parent_domains,
    refang,
    supernets,
)

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" * 2
SSDEEP = "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"
TLSH = "T1" + "A0B1" * 17 + "C2"


# --- addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected_kind", "expected", "lo", "hi"),
    [
        ("ipv4", "1.2.3.4", "ipv4", "1.2.3.4", "01020304", "01020304"),
        ("ipv4", " 10.0.0.1\n", "ipv4", "10.0.0.1", "0a000001", "0a000001"),
        ("ipv4", "::ffff:1.2.3.4", "ipv4", "1.2.3.4", "01020304", "01020304"),
        ("ipv6", "::FFFF:1.2.3.4", "ipv4", "1.2.3.4", "01020304", "01020304"),
        (
            "ipv6",
            "2001:DB8:0:0:0:0:0:1",
            "ipv6",
            "2001:db8::1",
            "2001" + "0db8" + "0" * 23 + "1",
            None,
        ),
        ("ipv4-net", "10.0.0.0/8", "ipv4-net", "10.0.0.0/8", "0a000000", "0affffff"),
        ("ipv4-net", "10.1.2.3/8", "ipv4-net", "10.0.0.0/8", "0a000000", "0affffff"),
        ("ipv4", "10.1.2.3/24", "ipv4-net", "10.1.2.0/24", "0a010200", "0a0102ff"),
        ("ipv4-net", "10.1.2.3/32", "ipv4", "10.1.2.3", "0a010203", "0a010203"),
        ("ipv4-net", "0.0.0.0/0", "ipv4-net", "0.0.0.0/0", "00000000", "ffffffff"),
        ("ipv4-net", "10.0.0.0/255.0.0.0", "ipv4-net", "10.0.0.0/8", "0a000000", "0affffff"),
        (
            "ipv6-net",
            "2001:db8::1/32",
            "ipv6-net",
            "2001:db8::/32",
            "20010db8" + "0" * 24,
            "20010db8" + "f" * 24,
        ),
        ("ipv6-net", "2001:db8::1/128", "ipv6", "2001:db8::1", "20010db8" + "0" * 23 + "1", None),
        ("ipv6-net", "::ffff:10.0.0.0/104", "ipv4-net", "10.0.0.0/8", "0a000000", "0affffff"),
    ],
)
def test_addresses(
    kind: str, value: str, expected_kind: str, expected: str, lo: str, hi: str | None
) -> None:
    observable = normalise(kind, value)
    assert (observable.kind, observable.value, observable.lo) == (expected_kind, expected, lo)
    assert observable.hi == (hi if hi is not None else lo)
    assert len(observable.lo or "") == (8 if expected_kind.startswith("ipv4") else 32)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("ipv4", "256.1.1.1"),
        ("ipv4", "010.1.1.1"),
        ("ipv4", "1.2.3"),
        ("ipv4", "2001:db8::1"),
        ("ipv6", "1.2.3.4"),
        ("ipv4-net", "10.0.0.0/33"),
        ("ipv6", "fe80::1%eth0"),
        ("ipv4", "evil.com"),
        ("ipv4", ""),
    ],
)
def test_bad_addresses(kind: str, value: str) -> None:
    with pytest.raises(ObservableError):
        normalise(kind, value)


def test_supernets_of_an_address() -> None:
    nets = supernets(normalise("ipv4", "10.1.2.3"))
    assert len(nets) == 32
    assert nets[0] == "0.0.0.0/0"
    assert nets[8] == "10.0.0.0/8"
    assert nets[-1] == "10.1.2.2/31"
    assert "10.1.2.3" not in nets and "10.1.2.3/32" not in nets


def test_supernets_of_a_network_and_of_other_kinds() -> None:
    assert supernets(normalise("ipv4-net", "10.0.0.0/8"))[-1] == "10.0.0.0/7"
    assert supernets(normalise("ipv4-net", "0.0.0.0/0")) == []
    assert len(supernets(normalise("ipv6", "::1"))) == 128
    assert supernets(normalise("domain", "example.com")) == []


def _check_supernets(address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: int) -> None:
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    observable = normalise("ipv4-net" if network.version == 4 else "ipv6-net", str(network))
    expected = [str(network.supernet(new_prefix=p)) for p in range(network.prefixlen)]
    assert supernets(observable) == expected
    # Each one, normalised, is itself (the index stores and looks up the same text).
    for text in expected:
        assert normalise("ipv4" if network.version == 4 else "ipv6", text).value == text
        assert ipaddress.ip_network(text).supernet_of(network)  # type: ignore[arg-type]


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_supernets_match_ipaddress_v4(address: ipaddress.IPv4Address, prefix: int) -> None:
    _check_supernets(address, prefix)


@given(st.ip_addresses(v=6), st.integers(0, 128))
def test_supernets_match_ipaddress_v6(address: ipaddress.IPv6Address, prefix: int) -> None:
    if address.ipv4_mapped is not None:
        return  # canonicalised to IPv4, checked above
    _check_supernets(address, prefix)


def _parsed_by_ipaddress(text: str) -> Observable | None:
    """What `parse_address` gives for IPv4 text, computed with `ipaddress` alone."""
    try:
        number = int(ipaddress.IPv4Address(text.strip()))
    except ipaddress.AddressValueError:
        return None
    hex_text = f"{number:08x}"
    return Observable("ipv4", str(ipaddress.IPv4Address(number)), lo=hex_text, hi=hex_text)


def _parsed(text: str) -> Observable | None:
    try:
        return parse_address(text)
    except ObservableError:
        return None


@given(st.ip_addresses(v=4))
def test_dotted_quad_fast_path_is_ipaddress(address: ipaddress.IPv4Address) -> None:
    assert _parsed(str(address)) == _parsed_by_ipaddress(str(address))
    assert _parsed(f" {address}\n") == _parsed_by_ipaddress(f" {address}\n")


_OCTET_TEXT = st.one_of(
    st.integers(0, 999).map(str),
    st.text("0123456789", max_size=4),
    st.sampled_from(
        ["00", "01", "007", "255", "256", "0x1", "+1", "-1", "\u0661", "1\u0662", " 1"]
    ),
)


@given(st.lists(_OCTET_TEXT, min_size=1, max_size=6), st.sampled_from(["", " ", "\t", "\n", "."]))
def test_dotted_quad_like_text_is_taken_as_ipaddress_takes_it(
    octets: list[str], around: str
) -> None:
    text = around + ".".join(octets) + around
    assert _parsed(text) == _parsed_by_ipaddress(text)


@given(st.ip_addresses(v=6))
def test_v6_text_is_what_ipaddress_prints(address: ipaddress.IPv6Address) -> None:
    if address.ipv4_mapped is None:
        assert v6_text(int(address)) == str(address)


@given(st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF]), min_size=8, max_size=8))
def test_v6_text_compresses_the_first_longest_zero_run(hextets: list[int]) -> None:
    number = int.from_bytes(b"".join(h.to_bytes(2, "big") for h in hextets), "big")
    if ipaddress.IPv6Address(number).ipv4_mapped is None:
        assert v6_text(number) == str(ipaddress.IPv6Address(number))


@given(st.ip_addresses())
def test_lo_hi_order_is_numeric_order(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    observable = normalise("ipv4" if address.version == 4 else "ipv6", str(address))
    if address.version == 6 and address.ipv4_mapped is not None:
        assert observable.value == str(address.ipv4_mapped)
        return
    assert observable.value == str(address)
    assert int(observable.lo or "", 16) == int(address)


# --- domains --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "rdomain"),
    [
        ("Example.COM", "example.com", "com.example."),
        ("www.example.com.", "www.example.com", "com.example.www."),
        ("BÜcher.example", "xn--bcher-kva.example", "example.xn--bcher-kva."),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", "example.xn--bcher-kva."),
        ("ｅｘａｍｐｌｅ．com", "example.com", "com.example."),
        ("faß.de", "xn--fa-hia.de", "de.xn--fa-hia."),
        ("foo_bar.Evil.com", "foo_bar.evil.com", "com.evil.foo_bar."),
        ("-dash-.evil.com", "-dash-.evil.com", "com.evil.-dash-."),
        ("localhost", "localhost", "localhost."),
    ],
)
def test_domains(value: str, expected: str, rdomain: str) -> None:
    assert normalise("domain", value) == Observable("domain", expected, rdomain=rdomain)


@pytest.mark.parametrize(
    "value",
    [
        "",
        ".",
        "a..b",
        "evil com",
        "evil.com/x",
        "1.2.3.4",
        "☃.net",
        "x" * 64 + ".com",
        "*.evil.com",
    ],
)
def test_bad_domains(value: str) -> None:
    with pytest.raises(ObservableError):
        normalise("domain", value)


@pytest.mark.parametrize(
    ("domain", "parents"),
    [
        ("a.b.example.co.uk", ["b.example.co.uk", "example.co.uk", "co.uk"]),
        ("www.example.com", ["example.com"]),
        ("example.com", []),
        ("com", []),
        ("www.example.com.", ["example.com"]),
    ],
)
def test_parent_domains(domain: str, parents: list[str]) -> None:
    assert parent_domains(domain) == parents


# --- URLs and e-mail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "host"),
    [
        ("HTTP://Evil.COM/Path", "http://evil.com/Path", "evil.com"),
        ("http://evil.com:80/a", "http://evil.com/a", "evil.com"),
        ("https://evil.com:443/a", "https://evil.com/a", "evil.com"),
        ("ftp://evil.com:21/a", "ftp://evil.com/a", "evil.com"),
        ("http://evil.com:443/a", "http://evil.com:443/a", "evil.com"),
        ("http://evil.com:/a", "http://evil.com/a", "evil.com"),
        ("http://evil.com", "http://evil.com/", "evil.com"),
        ("http://evil.com?q=1", "http://evil.com/?q=1", "evil.com"),
        (
            "http://evil.com/%7euser/%41%2f%2a?x=%3d%3D#%62",
            "http://evil.com/~user/A%2F%2A?x=%3D%3D#b",
            "evil.com",
        ),
        ("http://evil.com/a b/ä", "http://evil.com/a%20b/%C3%A4", "evil.com"),
        ("http://evil.com/a/../b;p?q#f", "http://evil.com/a/../b;p?q#f", "evil.com"),
        ("http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x", "2001:db8::1"),
        ("http://[2001:db8::1]/", "http://[2001:db8::1]/", "2001:db8::1"),
        ("http://1.2.3.4:80/x", "http://1.2.3.4/x", "1.2.3.4"),
        ("http://User:Pw@Evil.com/", "http://User:Pw@evil.com/", "evil.com"),
        ("http://BÜcher.example/", "http://xn--bcher-kva.example/", "xn--bcher-kva.example"),
        ("evil.com/path", "http://evil.com/path", "evil.com"),
        ("evil.com:8080", "http://evil.com:8080/", "evil.com"),
        ("  https://evil.com/x  ", "https://evil.com/x", "evil.com"),
        (
            "file://evil.com@SSL/DavWWWRoot/a.ps1",
            "file://evil.com@SSL/DavWWWRoot/a.ps1",
            "evil.com",
        ),
        ("file://1.2.3.4@8789/DavWWWRoot/a.bat", "file://1.2.3.4@8789/DavWWWRoot/a.bat", "1.2.3.4"),
    ],
)
def test_urls(value: str, expected: str, host: str) -> None:
    observable = normalise("url", value)
    assert (observable.kind, observable.value, observable.host) == ("url", expected, host)


def test_url_rdomain_is_the_hosts() -> None:
    assert normalise("url", "https://www.evil.com/x").rdomain == "com.evil.www."
    assert normalise("url", "https://1.2.3.4/x").rdomain is None


@pytest.mark.parametrize(
    "value",
    ["", "http://", "http:///x", "http://evil.com:99999/", "http://evil.com:8o/", "http://[::1/"],
)
def test_bad_urls(value: str) -> None:
    with pytest.raises(ObservableError):
        normalise("url", value)


@pytest.mark.parametrize(
    ("value", "expected", "host"),
    [
        ("Alice@Example.COM", "Alice@example.com", "example.com"),
        ("alice@BÜcher.example", "alice@xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a.b+tag@sub.example.com.", "a.b+tag@sub.example.com", "sub.example.com"),
        ("x@[1.2.3.4]", "x@[1.2.3.4]", "1.2.3.4"),
    ],
)
def test_emails(value: str, expected: str, host: str) -> None:
    observable = normalise("email", value)
    assert (observable.value, observable.host) == (expected, host)


@pytest.mark.parametrize("value", ["", "alice", "@example.com", "alice@", "a b@example.com"])
def test_bad_emails(value: str) -> None:
    with pytest.raises(ObservableError):
        normalise("email", value)


# --- hashes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (MD5, "md5"),
        (MD5.upper(), "md5"),
        (SHA1, "sha1"),
        (SHA256, "sha256"),
        (SHA512, "sha512"),
        (SSDEEP, "ssdeep"),
        (TLSH, "tlsh"),
        (TLSH[2:], "tlsh"),
        ("0" * 72, "tlsh"),
        ("0" * 31, None),
        ("g" * 32, None),
        ("evil.com", None),
    ],
)
def test_hash_kind(value: str, kind: str | None) -> None:
    assert hash_kind(value) == kind


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("md5", MD5.upper(), MD5),
        ("sha1", f" {SHA1} ", SHA1),
        ("sha256", SHA256.upper(), SHA256),
        ("sha3-256", SHA256, SHA256),
        ("sha512", SHA512, SHA512),
        ("sha3-512", SHA512.upper(), SHA512),
        ("ssdeep", SSDEEP, SSDEEP),  # base64: case is kept
        ("tlsh", TLSH, TLSH.lower()),
        ("tlsh", TLSH[2:], TLSH.lower()),  # pre-4.0 digest without the "T1" version prefix
    ],
)
def test_hashes(kind: str, value: str, expected: str) -> None:
    assert normalise(kind, value) == Observable(kind, expected)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("md5", SHA256), ("sha256", MD5), ("sha1", "z" * 40), ("ssdeep", MD5), ("tlsh", SHA256)],
)
def test_hash_of_the_wrong_kind(kind: str, value: str) -> None:
    with pytest.raises(ObservableError, match="not a"):
        normalise(kind, value)


def test_unknown_kind() -> None:
    with pytest.raises(ObservableError, match="unknown observable kind"):
        normalise("mutex", "Global\\x")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("MD5", "md5"),
        ("md5", "md5"),
        ("SHA-1", "sha1"),
        ("SHA1", "sha1"),
        ("SHA-256", "sha256"),
        ("sha256", "sha256"),
        ("SHA-512", "sha512"),
        ("SHA3-256", "sha3-256"),
        ("SHA3-512", "sha3-512"),
        ("SSDEEP", "ssdeep"),
        ("TLSH", "tlsh"),
        ("SHA-224", None),
        ("WHIRLPOOL", None),
        ("x_custom", None),
    ],
)
def test_kind_for_hash_name(name: str, kind: str | None) -> None:
    assert kind_for_hash_name(name) == kind


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("hxxps[:]//evil[.]com/a", "url", "https://evil.com/a"),
        ("hXXp://evil(.)com", "url", "http://evil.com/"),
        ("hxxp[://]1.2.3[.]4:8080/x", "url", "http://1.2.3.4:8080/x"),
        ("fxp://evil[dot]com/x", "url", "ftp://evil.com/x"),
        ("1.2.3[.]4", "ipv4", "1.2.3.4"),
        ("10.0.0.0/8", "ipv4-net", "10.0.0.0/8"),
        ("2001:db8::1", "ipv6", "2001:db8::1"),
        ("::ffff:1.2.3.4", "ipv4", "1.2.3.4"),
        ("user[at]example[.]com", "email", "user@example.com"),
        ("user(at)example{.}com", "email", "user@example.com"),
        ("evil[.]com", "domain", "evil.com"),
        ("Evil.Example.com.", "domain", "evil.example.com"),
        ("BÜcher.example", "domain", "xn--bcher-kva.example"),
        ("evil.com/gate.php", "url", "http://evil.com/gate.php"),
        ("1.2.3.4/a", "url", "http://1.2.3.4/a"),
        ("  " + MD5.upper() + "\n", "md5", MD5),
        (SHA256, "sha256", SHA256),
        (SSDEEP, "ssdeep", SSDEEP),
    ],
)
def test_detect(value: str, kind: str, expected: str) -> None:
    observable = detect(value)
    assert observable is not None
    assert (observable.kind, observable.value) == (kind, expected)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "hello",
        "invoice.pdf",
        "svchost.exe",
        "C:\\Windows\\x.dll",
        "deadbeef",
        "a b.com",
        "1.2.3.4:80",
        "HKLM\\Software\\Run",
        "@evil.com",
        "evil",
    ],
)
def test_detect_nothing(value: str) -> None:
    assert detect(value) is None


def test_refang_leaves_ipv6_url_brackets() -> None:
    assert refang("http://[2001:db8::1]/x") == "http://[2001:db8::1]/x"


# --- extraction from STIX objects -----------------------------------------------------------


def _values(found: list[IndexedObservable]) -> list[tuple[str, str, str, bool, str]]:
    return [(f.observable.kind, f.observable.value, f.source, f.simple, f.path) for f in found]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            {"type": "ipv4-addr", "value": "10.1.2.3/8"},
            [("ipv4-net", "10.0.0.0/8", "ipv4-addr:value")],
        ),
        ({"type": "ipv6-addr", "value": "::1"}, [("ipv6", "::1", "ipv6-addr:value")]),
        (
            {"type": "domain-name", "value": "Evil.com"},
            [("domain", "evil.com", "domain-name:value")],
        ),
        ({"type": "url", "value": "HTTP://evil.com"}, [("url", "http://evil.com/", "url:value")]),
        ({"type": "email-addr", "value": "a@B.com"}, [("email", "a@b.com", "email-addr:value")]),
        (
            {"type": "file", "hashes": {"MD5": MD5.upper(), "SHA-256": SHA256, "SHA-224": "ab"}},
            [("md5", MD5, "file:hashes.MD5"), ("sha256", SHA256, "file:hashes.'SHA-256'")],
        ),
        (
            {"type": "artifact", "hashes": {"SHA-1": SHA1}},
            [("sha1", SHA1, "artifact:hashes.'SHA-1'")],
        ),
        ({"type": "ipv4-addr", "value": "not an ip"}, []),
        ({"type": "file", "hashes": {"MD5": SHA256}}, []),
        ({"type": "domain-name"}, []),
        ({"type": "mutex", "name": "x"}, []),
    ],
)
def test_observables_from_sco(obj: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert _values(observables_from_object(obj)) == [(k, v, "sco", True, p) for k, v, p in expected]


def test_observables_from_observed_data_2_0() -> None:
    obj = {
        "type": "observed-data",
        "objects": {
            "0": {"type": "ipv4-addr", "value": "1.2.3.4"},
            "1": {"type": "domain-name", "value": "evil.com", "resolves_to_refs": ["0"]},
            "2": {"type": "ipv4-addr", "value": "1.2.3.4"},
            "3": {"type": "file", "hashes": {"sha256": SHA256}},
        },
    }
    assert _values(observables_from_object(obj)) == [
        ("ipv4", "1.2.3.4", "sco", True, "ipv4-addr:value"),
        ("domain", "evil.com", "sco", True, "domain-name:value"),
        ("sha256", SHA256, "sco", True, "file:hashes.sha256"),
    ]


def test_observables_from_indicator() -> None:
    simple = {"type": "indicator", "pattern": f"[file:hashes.'SHA-256' = '{SHA256.upper()}']"}
    assert _values(observables_from_object(simple)) == [
        ("sha256", SHA256, "pattern", True, "file:hashes.'SHA-256'")
    ]
    windowed = {
        "type": "indicator",
        "pattern_type": "stix",
        "pattern": "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.4']",
    }
    assert _values(observables_from_object(windowed)) == [
        ("ipv4", "1.2.3.4", "pattern", False, "ipv4-addr:value")
    ]
    for skipped in (
        {"type": "indicator", "pattern_type": "snort", "pattern": "alert tcp any any"},
        {"type": "indicator", "pattern": "[ipv4-addr:value = '1.2.3.4'"},
        {"type": "indicator"},
    ):
        assert observables_from_object(skipped) == []


def test_unit42_bundles_index_every_network_and_hash_indicator(shared_data: Path) -> None:
    folder = shared_data / "stix20" / "unit42-stix2-reports" / "report_json"
    indicators = found = 0
    kinds: dict[str, int] = {}
    for path in sorted(folder.glob("*.json")):
        for obj in json.loads(path.read_text(encoding="utf-8")).get("objects", []):
            if obj.get("type") != "indicator":
                continue
            indicators += 1
            extracted = observables_from_object(obj)
            found += bool(extracted)
            for item in extracted:
                kinds[item.observable.kind] = kinds.get(item.observable.kind, 0) + 1
    assert indicators == 2474
    # 18 patterns are about file names, registry keys, command lines and directories; one
    # "domain" is a defanged URL path ("kntwtopnbt/8r5kudwrc8/gate[.]php").
    assert found == indicators - 19
    assert kinds == {"sha256": 1615, "url": 496, "domain": 190, "ipv4": 152, "email": 2}


@pytest.mark.parametrize("value", ["http://a%a9b.com/x", "https://%ff%fe/", "a%c3.example/"])
def test_a_url_host_that_is_not_utf8_once_decoded_is_refused_not_a_crash(value: str) -> None:
    with pytest.raises(ObservableError, match="not UTF-8"):
        normalise("url", value)


def test_detects_short_cut_for_plain_addresses_digests_and_names_agrees_with_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random
    import re

    from accord.model import detection

    rng = random.Random(11)
    values = []
    for _ in range(3000):
        quad = ".".join(str(rng.choice([rng.randrange(256), rng.randrange(1000)])) for _ in "abcd")
        values.append(quad if rng.random() < 0.6 else f"{quad}/{rng.randrange(100)}")
    for length in (31, 32, 33, 40, 64, 100, 128):
        for _ in range(50):
            digest = "".join(rng.choice("0123456789abcdef") for _ in range(length))
            values += [
                digest,
                digest.upper(),
                "".join(rng.choice("0123456789") for _ in range(length)),
            ]
    values += ["0.0.0.0", "255.255.255.255/32", "1.2.3.4/99", "01.2.3.4", "1.2.3.4/033"]
    alphabet = "abcdefxyz0123456789-"
    for _ in range(3000):
        labels = [
            "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 2, 5, 12, 63, 64])))
            for _ in range(rng.randint(1, 4))
        ]
        tld = rng.choice(["com", "ab", "exe", "pdf", "zip", "x", "c0m", "xn", "co", "a" * 64])
        values.append(".".join([*labels, tld]))
    values += [
        "example.com",
        "-bad.example.com",
        "bad-.example.com",
        "a..b.com",
        "1.2.3.com",
        "127.0.0.1.nip.io",
        "invoice.pdf",
        "evil.zip",
        "xn--80ak6aa92e.com",
        f"{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * 61}.com",
        f"{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * 63}.com",
        "deadbeef.cafe",
    ]
    fast = [detect(value) for value in values]
    never = re.compile("(?!)")
    monkeypatch.setattr(detection, "_CLEAN_ADDRESS", never)
    monkeypatch.setattr(detection, "_CLEAN_DIGEST", never)
    monkeypatch.setattr(detection, "_CLEAN_DOMAIN", never)
    assert [detect(value) for value in values] == fast
    assert sum(found is not None and found.kind == "domain" for found in fast) > 500


@pytest.mark.parametrize("space", [" ", "\t", "\u00a0", "\u2003", "\u3000", "\x1c"])
def test_a_value_with_whitespace_inside_is_not_detected(space: str) -> None:
    assert detect(f"http://example.com/a{space}b") is None
    assert detect(f"evil{space}example.com") is None
