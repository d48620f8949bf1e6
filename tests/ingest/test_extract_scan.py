"""The extractor: defanging forms, every type, flags, offsets."""

from __future__ import annotations

import pytest

from accord.ingest.extract import Finding, ScanOptions, scan
from accord.ingest.extract.defang import refang_text
from accord.model.observables import Observable


def values(text: str, *, unflagged: bool = False) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in scan(text) if not (unflagged and f.flagged)}


def only(text: str) -> Finding:
    found = scan(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("written", "kind", "value"),
    [
        ("hxxp://evil[.]com/a", "url", "http://evil.com/a"),
        ("hxxps://evil[.]com/a", "url", "https://evil.com/a"),
        ("hXXps://evil[.]com/a", "url", "https://evil.com/a"),
        ("hxxps[:]//evil[.]com/a", "url", "https://evil.com/a"),
        ("hxxps[://]evil[.]com/a", "url", "https://evil.com/a"),
        ("hxxp[s]://evil[.]com/a", "url", "https://evil.com/a"),
        ("fxp://files[.]evil[.]com/x", "url", "ftp://files.evil.com/x"),
        ("http://evil(.)com/a", "url", "http://evil.com/a"),
        ("http://evil[dot]com/a", "url", "http://evil.com/a"),
        ("http://evil{.}com/a", "url", "http://evil.com/a"),
        ("hxxps[:]///evil[.]com/a", "url", "https://evil.com/a"),
        ("evil [.] com", "domain", "evil.com"),
        ("evil . com", "domain", "evil.com"),
        ("evil\\[.\\]com", "domain", "evil.com"),
        ("1.2.3[.]4", "ipv4", "1.2.3.4"),
        ("1[.]2[.]3[.]4", "ipv4", "1.2.3.4"),
        ("bad[at]evil[.]com", "email", "bad@evil.com"),
        ("bad[@]evil[.]com", "email", "bad@evil.com"),
        ("bad(at)evil(dot)com", "email", "bad@evil.com"),
        ("evil\u200b.com", "domain", "evil.com"),
    ],
)
def test_defang_forms(written: str, kind: str, value: str) -> None:
    assert (kind, value) in values(f"seen: {written} today")


def test_offsets_point_into_the_original_text() -> None:
    text = "first hxxps[:]//evil[.]com/x then 5.6.7[.]8"
    found = {f.kind: f for f in scan(text)}
    assert text[found["url"].start : found["url"].end] == "hxxps[:]//evil[.]com/x"
    assert found["ipv4"].raw == "5.6.7[.]8"
    assert found["url"].defanged and "evil" in found["url"].context


def test_refang_keeps_a_map() -> None:
    doc = refang_text("a[.]b and c")
    assert doc.text == "a.b and c"
    assert doc.original_offset(doc.text.index("and")) == doc.original.index("and")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("C2 8.8.4[.]4:443", "ipv4", "8.8.4.4"),
        ("net 45.9.20[.]0/24", "ipv4-net", "45.9.20.0/24"),
        ("v6 2a03:2880:f12f:83:face:b00c::25de", "ipv6", "2a03:2880:f12f:83:face:b00c:0:25de"),
        ("d evil-host[.]co[.]uk", "domain", "evil-host.co.uk"),
        ("u hxxp://evil[.]com:8080/x?y=1", "url", "http://evil.com:8080/x?y=1"),
        ("e someone[at]evil[.]org", "email", "someone@evil.org"),
        ("md5 D41D8CD98F00B204E9800998ECF8427F", "md5", "d41d8cd98f00b204e9800998ecf8427f"),
        (
            "sha1 3395856ce81f2b7382dee72602f798b642f14140",
            "sha1",
            "3395856ce81f2b7382dee72602f798b642f14140",
        ),
        ("h " + "ab" * 32, "sha256", "ab" * 32),
        ("h " + "cd" * 64, "sha512", "cd" * 64),
        (
            "fuzzy 3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
            "ssdeep",
            "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
        ),
        ("uses cve-2021-44228", "cve", "CVE-2021-44228"),
        ("technique T1059.001 and", "attack-technique", "T1059.001"),
        ("tactic TA0002.", "attack-technique", "TA0002"),
        (
            "run key HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            "registry-key",
            "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        ),
        (
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC] or",
            "registry-key",
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC",
        ),
        (
            "dropped C:\\Program Files\\Evil Corp\\a.exe today",
            "file-path",
            "C:\\Program Files\\Evil Corp\\a.exe",
        ),
        ("dropped %APPDATA%\\x\\y.dll", "file-path", "%APPDATA%\\x\\y.dll"),
        ("dropped /tmp/.x/kit.sh", "file-path", "/tmp/.x/kit.sh"),
        ("tor " + "a" * 56 + "[.]onion", "onion", "a" * 56 + ".onion"),
        ("pay 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bitcoin", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
        (
            "pay bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "bitcoin",
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ),
        (
            "eth 0x52908400098527886E0F7030069857D2E4169EE7",
            "ethereum",
            "0x52908400098527886e0f7030069857d2e4169ee7",
        ),
    ],
)
def test_every_type(text: str, kind: str, value: str) -> None:
    assert (kind, value) in values(text)


def test_port_is_kept() -> None:
    assert only("198.18.0.0").kind == "ipv4"
    found = {f.value: f for f in scan("- 158.220.80[.]167 port 2967 - HTTPS traffic, 5.6.7.8:80")}
    assert found["158.220.80.167"].port == 2967
    assert found["5.6.7.8"].port == 80


def test_not_values() -> None:
    assert values("a bad checksum 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3") == set()
    assert values("time 12:30:45, 1.2.3, 999.1.1.1, e.g. this, file.exe") == set()
    assert values("T9999 and CVE-12-1") == set()


def test_url_wrapped_onto_an_indented_line() -> None:
    text = "- hxxps[:]//evil[.]com/path/documents?\r\n  t=1&i=qz\r\n\r\nnext"
    assert ("url", "https://evil.com/path/documents?t=1&i=qz") in values(text)


def test_traffic_line_url_is_rebuilt() -> None:
    text = "- 85.239.53[.]219 port 80 - 85.239.53[.]219 - GET /api/g   <-- payload"
    found = {(f.kind, f.value): f for f in scan(text)}
    assert found["url", "http://85.239.53.219/api/g"].derived == "rebuilt from a traffic line"
    assert ("ipv4", "85.239.53.219") in found


def test_host_of_a_defanged_url_is_reported() -> None:
    assert ("domain", "evil.com") in values("hxxp://evil[.]com/x")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("see 192.0.2.15 and 9.9.9[.]9", "documentation"),
        ("see 2001:db8::1", "documentation"),
        ("see 10.1.2.3", "private"),
        ("see 127.0.0.1", "loopback"),
        ("see www.example.com", "documentation"),
        ("see evil.test", "documentation"),
        ("installed version 1.2.3.4 of it", "version"),
        ("unpacked setup.zip from it", "file-name"),
        ("md5 d41d8cd98f00b204e9800998ecf8427e", "empty-hash"),
        ("see https://www.virustotal.com/gui/file/x", "benign-host"),
        ("source https://blog.vendor.com/post; C2 evil[.]com", "reference"),
    ],
)
def test_flags(text: str, code: str) -> None:
    codes = {flag.code for finding in scan(text) for flag in finding.flags}
    assert code in codes, scan(text)


def test_defanged_values_are_not_references() -> None:
    found = scan("C2 hxxp://evil[.]com/x and `1.2.3.4` and `dropper.evil.net`")
    assert not any(finding.flagged for finding in found), found


def test_injected_flagger() -> None:
    def listed(observable: Observable) -> list[str]:
        return ["on warninglist: public DNS resolvers"] if observable.value == "8.8.8.8" else []

    found = {f.value: f for f in scan("dns 8.8.8[.]8 and 5.6.7[.]8", ScanOptions(flagger=listed))}
    assert [flag.code for flag in found["8.8.8.8"].flags] == ["warninglist"]
    assert not found["5.6.7.8"].flags


def test_each_value_once_with_a_count() -> None:
    found = scan("1.2.3[.]4 then 1.2.3[.]4 and 1.2.3.4")
    assert len(found) == 1 and found[0].count == 3
