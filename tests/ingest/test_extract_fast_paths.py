"""The scanner's fast paths find exactly what the plain forms they stand for find.

The patterns start with a character set rather than a look-behind, some are searched only on
the lines that hold a trigger, e-mail addresses are found from their "@", and names whose last
label no public-suffix rule ends with are turned down without a look-up. Each is checked here
against the plain form it replaced, on hand-written edge cases and on generated text.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.ingest.extract import Finding, defang, scan
from accord.ingest.extract import patterns as p
from accord.ingest.extract.defang import refang_text
from accord.ingest.extract.flags import _address_flags, address_flags
from accord.ingest.extract.pattern_search import (
    hex_runs,
    ipv4_matches,
    line_start_matches,
    matches_on_lines,
    plain_labels,
    service_lines,
)
from accord.ingest.extract.scanner import _Scan
from accord.model import urls
from accord.model.addresses import may_be_address, parse_address
from accord.model.observables import KINDS, ObservableError, normalise

# The plain forms: a look-behind first, re.IGNORECASE, one alternation.
_REG_PART = r"[^\\\s\"'<>|`,;*\[\]]+"
PLAIN = {
    "IPV6": re.compile(
        r"(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)"
        r"(?P<ip>[0-9A-Fa-f:]{2,39}(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?)"
        r"(?:/(?P<cidr>12[0-8]|1[01][0-9]|[1-9]?[0-9])(?![\w.]))?"
        r"(?![\w:])"
    ),
    "SSDEEP": re.compile(
        r"(?<![\w:/+])(?P<size>[0-9]{1,10}):(?P<one>[A-Za-z0-9+/]{6,64}):"
        r"(?P<two>[A-Za-z0-9+/]{2,64})(?![\w+/])"
    ),
    "CVE": re.compile(r"\bCVE[-‐‑–](?P<year>[12][0-9]{3})[-‐‑–](?P<number>[0-9]{4,7})\b", re.I),
    "ATTACK": re.compile(
        r"(?<![\w.-])(?P<id>TA00[0-9]{2}|T1[0-9]{3}(?:\.[0-9]{3})?)(?![\w-]|\.[0-9])"
    ),
    "REGISTRY_KEY": re.compile(
        r"(?<![\w\\])(?P<hive>HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS"
        r"|HKEY_CURRENT_CONFIG|HKLM|HKCU|HKCR|HKU|HKCC):?"
        rf"(?P<rest>(?:\\\\?(?:{_REG_PART}(?: {_REG_PART})*(?=\\)|{_REG_PART}))+)",
        re.IGNORECASE,
    ),
    "UNIX_PATH": re.compile(
        r"(?<![\w/.:~-])(?:~|/(?:tmp|var|etc|usr|bin|sbin|opt|home|root|dev|lib|lib64|Library"
        r"|Users|Applications|System|private|proc|srv|mnt|run|boot|Volumes))"
        r"/[^\s\"'<>|`,;()\[\]{}]+"
    ),
    "BITCOIN_BECH32": re.compile(r"(?<![\w])(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}(?![\w])"),
    "ETHEREUM": re.compile(r"(?<![\w])0x[0-9a-fA-F]{40}(?![\w])"),
}
PLAIN_SCHEMES = re.compile(
    r"(?<![A-Za-z0-9])(?:(?P<http>h(?:[x*]{2,3}|xt|tx)p)|(?P<ftp>fx{1,2}p))"
    r"(?=(?:s|\[s\])?\s*[\[\(]?:)",
    re.IGNORECASE,
)
PLAIN_SINGLES = re.compile(
    r"(?P<invisible>[\u200b\u200c\u200d\u2060\ufeff\u00ad])"
    r"|(?P<wide>[\uff0e\u3002\u2024](?<=\w.)(?=\w))"
)

EDGES = (
    "CVE-2021-44228 xCVE-2021-1234 cve‐2020-1111_ cVe-2019-0001. CVE-2019-12345678\n"
    "T1059.001 aT1000 TA0001 -T1234 T1234.5 .T1111 (T1566)\n"
    "HKLM\\Soft\\x hkcu\\a HKEY_USERS\\S-1 xHKLM\\a \\HKCU\\b HKCC:\\Run HKU\\\\a\\\\b\n"
    "/tmp/x ~/a a/tmp/b :/etc/c -/usr/bin ~x/y (/var/log/z)\n"
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq xbc1qar0srrr7xfkvy5l643 BC1QAR0SRRR7XFKVY5L6\n"
    "0x52908400098527886E0F7030069857D2E4169EE7 10x52908400098527886E0F7030069857D2E4169EE7\n"
    "fe80::1 ::1 a::b 1:2:3:4:5:6:7:8 ab:cd:: :::: 1::2:3.4.5.6 x:1::2 .::1 abcde:1:2\n"
    "96:abcdefg:hi 3:abcdef:gh x3:abcdef:gh 12345678901:abcdef:gh\n"
    "a@b.com x.y+z@evil.co.uk @evil.com a@b.com@c.org " + "l" * 70 + "@long.com\n"
    "hxxp://a hXXps[:]//b h**p:// hxtp: xhxxp: fxp: FXXP[:] hxxp [s]: hxxps (: hxxxxp:\n"
    "a\u3002b \u200bx \u3002a b\uff0ec"
)
TEXT = st.text(
    alphabet="aAbBcCeEfFhHkKtTxXvV0123456789:.\\/~-_ +%@\n[]()*s\u3002\u200b", max_size=300
)


def spans(found: object) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
    return [(match.span(), match.groupdict()) for match in found]  # type: ignore[attr-defined]


def check_patterns(text: str) -> None:
    for name, plain in PLAIN.items():
        assert spans(getattr(p, name).finditer(text)) == spans(plain.finditer(text)), name
    for fast, slow in ((defang._SCHEMES, PLAIN_SCHEMES), (defang._SINGLES, PLAIN_SINGLES)):
        got = [(m.span(), m.lastgroup) for m in fast.finditer(text)]
        assert got == [(m.span(), m.lastgroup) for m in slow.finditer(text)]


def check_lines(text: str) -> None:
    line_patterns = (
        (p.IPV6, p.IPV6_TRIGGER),
        (p.SSDEEP, p.SSDEEP_TRIGGER),
        (p.CVE, p.CVE_TRIGGER),
        (p.REGISTRY_KEY, p.REGISTRY_TRIGGER),
        (p.WINDOWS_PATH, p.WINDOWS_PATH_TRIGGER),
    )
    for pattern, trigger in line_patterns:
        assert spans(matches_on_lines(pattern, text, trigger)) == spans(pattern.finditer(text))
    traffic = line_start_matches(p.TRAFFIC_LINE, text, p.TRAFFIC_TRIGGER)
    assert spans(traffic) == spans(p.TRAFFIC_LINE.finditer(text))
    state = _Scan(refang_text(text))
    assert spans(state._email_matches()) == spans(p.EMAIL.finditer(state.text))


def test_fast_forms_on_edge_cases() -> None:
    check_patterns(EDGES)
    check_lines(EDGES)
    check_lines(
        "10.0.0.1 port 80 - evil.com - GET /a\n - port 443 (HTTPS) - b.com - GET /x\n"
        "report 1 - x - GET /y\n 1.2.3.4 port 8080 (HTTP\n) - c.com - POST /z\n"
        "C:\\Windows\\x %APPDATA%\\y \\\\host\\share\\z a:\\b\n"
    )


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_fast_forms_on_generated_text(text: str) -> None:
    check_patterns(text)
    check_lines(text)


@pytest.mark.parametrize(
    "name",
    ["evil.com", "a.b.co.uk", "x.ck", "www.ck", "setup.exe", "report.pdf", "a.example",
     "host.local", "xn--80ak6aa92e.com", "a.xn--p1ai", "notes.md", "a.blogspot.com"],
)  # fmt: skip
def test_unlisted_tlds_have_no_suffix(name: str) -> None:
    tld = name.rpartition(".")[2]
    full = p._SUFFIXES.publicsuffix(name, accept_unknown=False)
    if tld not in p.SPECIAL_USE_TLDS:
        assert p.public_suffix(name) == full
    if not p.tld_listed(tld):
        assert full is None


def test_every_rule_tld_is_listed() -> None:
    assert p._LISTED_TLDS is not None, "publicsuffixlist no longer shows its rules"
    for rule in list(p._SUFFIXES._publicsuffix)[:20000]:
        assert p.tld_listed(rule.rpartition(".")[2].lstrip("!*"))


@pytest.mark.parametrize(
    ("value", "code"),
    [("192.0.2.1", "documentation"), ("127.0.0.1", "loopback"), ("169.254.1.1", "private"),
     ("224.0.0.1", "private"), ("0.0.0.0", "private"), ("10.1.2.3", "private"),
     ("240.0.0.1", "private"), ("100.64.0.1", "private"), ("8.8.8.8", None),
     ("2001:db8::1", "documentation"), ("::1", "loopback"), ("fe80::1", "private"),
     ("2606:4700::1111", None), ("10.0.0.0/8", "private"), ("198.51.100.0/25", "documentation"),
     ("203.0.0.0/8", None)],
)  # fmt: skip
def test_address_flags(value: str, code: str | None) -> None:
    kind = ("ipv6" if ":" in value else "ipv4") + ("-net" if "/" in value else "")
    flags = _address_flags(value, kind)
    assert [flag.code for flag in flags] == ([code] if code else [])


# -- the fast paths of the speed work on issue 7 ------------------------------------------------

DEFANG_TEXT = st.text(alphabet="[](){}.:/\\ \tdotaDOTAT@sSxXhHpPfFtT*1\n", max_size=200)


def plain_tokens(text: str) -> list[tuple[int, int, str]]:
    """`defang._tokens` with the single patterns the split ones stand for."""
    saved = defang._BRACKETS_BY_OPENING, defang._SCHEMES_BY_LETTER
    try:
        defang._BRACKETS_BY_OPENING = (defang._BRACKETS,)  # type: ignore[misc]
        defang._SCHEMES_BY_LETTER = (defang._SCHEMES,)  # type: ignore[misc]
        return defang._tokens(text)
    finally:
        defang._BRACKETS_BY_OPENING, defang._SCHEMES_BY_LETTER = saved  # type: ignore[misc]


def merged(patterns: tuple[re.Pattern[str], ...], text: str) -> list[re.Match[str]]:
    return sorted((m for pattern in patterns for m in pattern.finditer(text)), key=re.Match.start)


def check_split_patterns(text: str) -> None:
    assert spans(ipv4_matches(text)) == spans(p.IPV4.finditer(text))
    assert spans(service_lines(text)) == spans(p.SERVICE_LINE.finditer(text))
    assert list(hex_runs(text)) == [m.span() for m in p.HEX_HASH.finditer(text)]
    legacy = merged(p.BITCOIN_LEGACY_BY_START, text)
    assert spans(legacy) == spans(p.BITCOIN_LEGACY.finditer(text))
    segwit = merged(p.BITCOIN_BECH32_BY_PREFIX, text)
    assert spans(segwit) == spans(p.BITCOIN_BECH32.finditer(text))
    if p.UNIX_PATH.search(text) is not None:  # the gate in `file_paths` lets it through
        assert "~/" in text or p.UNIX_DIR_TRIGGER.search(text) is not None
    if p.WINDOWS_PATH.search(text) is not None:
        assert "\\" in text


def check_relocate(text: str) -> None:
    doc = refang_text(text)
    length = len(doc.text)
    items = sorted(
        (Finding("x", "x", start, end, text, False) for start in range(length + 1)
         for end in range(start, min(length, start + 6) + 1)),
        key=lambda item: item.start,
    )  # fmt: skip
    expected = [
        (doc.original_offset(i.start), doc.original_offset(i.end), doc.defanged_between(i.start, i.end))
        for i in items
    ]  # fmt: skip
    doc.relocate(items)
    assert [(i.start, i.end, i.defanged) for i in items] == expected


def test_split_patterns_on_edge_cases() -> None:
    for text in (
        EDGES,
        "1.2.3.4 1234.5.6.7 a1.2.3.4 .1.2.3.4 1.2.3.4.5 01.2.3.4 1.2.3.999 1.2.3.4/24 1.2.3.4:80",
        "9.9.9.9:99999 1.1.1.1.com 1.2.3 1.2.3.4x 255.255.255.255",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 31h1vYVSYuKP6AhS86fbRdMw9XHieotbST x1BvBMSEYstWetqTFn5Au4m4G",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ bC1q",
        "/tmp/x ~/a /etc/passwd x/var/y C:\\Windows\\x %APPDATA%\\y \\\\host\\share",
        "- 1.2.3.4 port 443 - HTTPS traffic\n1.2.3.4:80 - x\n - 1.2.3.4\tport\t8 -\tTCP\n",
        "port 1.2.3.4 port 5 - a\r\n5.6.7.8:9  -  b port\n",
    ):
        check_split_patterns(text)
    for text in ("a[.]b [.] c\\[.\\]d hxxp[:]//e[.]f h**ps[:]// (dot) [at] x", "", "[.]"):
        assert defang._tokens(text) == plain_tokens(text)
        check_relocate(text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_split_patterns_on_generated_text(text: str) -> None:
    check_split_patterns(text)


@settings(max_examples=300, deadline=None)
@given(DEFANG_TEXT)
def test_split_defang_patterns_on_generated_text(text: str) -> None:
    assert defang._tokens(text) == plain_tokens(text)
    check_relocate(text[:40])


def test_alnum_run_is_isalnum() -> None:
    # The URL scanner walks back over `str.isalnum()` characters with `p.ALNUM_RUN`.
    for code in range(0, 0x110000, 7):
        char = chr(code)
        assert (p.ALNUM_RUN.fullmatch(char) is not None) == char.isalnum()


def test_listed_suffix_is_the_librarys() -> None:
    assert p._RULES is not None, "publicsuffixlist no longer shows its rules"
    names = ["", ".", "com", "com.", ".com", "a..com", "A.Example.CO.UK", "www.ck", "a.www.ck",
             "x.ck", "a.x.ck", "city.kobe.jp", "a.city.kobe.jp", "b.kobe.jp", "a.blogspot.com"]  # fmt: skip
    for rule in sorted(p._RULES[0])[::7]:
        base = rule.lstrip("!").removeprefix("*.")
        names += [base, "a." + base, "a.b." + base]
    for name in names:
        expected = p._SUFFIXES.publicsuffix(name, accept_unknown=False)
        assert p._listed_suffix(name, p._RULES) == expected, name
        if name and ".." not in name and name[0] != "." and name[-1] != ".":
            assert p.has_public_suffix(name.lower()) == (expected is not None), name


def test_address_flags_need_no_parse_outside_special_blocks() -> None:
    # Every /16 (two samples each): the pre-filter says "no flags" only where `ipaddress`
    # agrees, so a Python that adds a special-purpose range inside them shows up here.
    for first in range(256):
        for second in range(256):
            for address in (f"{first}.{second}.0.1", f"{first}.{second}.255.254"):
                if not address_flags(address, "ipv4"):
                    assert not _address_flags(address, "ipv4"), address


@pytest.mark.parametrize(
    "host", ["evil.com", "1.2.3.4", "01.2.3.4", "1.2.3", "a%41.com", "[::1]", "::1", "10.0.0.0/8",
             " 1.2.3.4 ", "1.2.3.4.", "٣.2.3.4", "1.2.3.256", ""],
)  # fmt: skip
def test_may_be_address(host: str) -> None:
    try:
        parse_address(host)
    except ObservableError:
        return
    assert may_be_address(host)


def test_lazy_observables_are_what_normalise_gives() -> None:
    text = "evil[.]com 1.2.3[.]4 " + "ab" * 32 + " hxxp://a.evil[.]org/x 10.0.0.0/8 bad@evil.com"
    for finding in scan(text):
        if finding.kind in KINDS:
            assert finding.observable == normalise(finding.kind, finding.value)
        else:
            assert finding.observable is None


SERVICE_TEXT = st.lists(
    st.sampled_from(["port", " ", "\t", "-", ":", "1.2.3.4", "12", "\n", "\r\n", "TCP", "x"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(SERVICE_TEXT)
def test_service_lines_on_generated_text(text: str) -> None:
    assert spans(service_lines(text)) == spans(p.SERVICE_LINE.finditer(text))
    assert spans(ipv4_matches(text)) == spans(p.IPV4.finditer(text))


HEX_TEXT = st.lists(
    st.sampled_from(["0" * 31, "a" * 32, "f00d" * 10, "9" * 64, "E" * 128, "b" * 129, "g", "_", " ",
                     "\n", "-", "é", "x"]),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(HEX_TEXT)
def test_hex_runs_on_generated_text(text: str) -> None:
    assert list(hex_runs(text)) == [m.span() for m in p.HEX_HASH.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0a1f", min_size=32, max_size=32))
def test_placeholder_hashes(value: str) -> None:
    # `len(set(value)) <= 2`, the rule the quick checks in `flags._hash_flags` stand for.
    codes = [flag.code for flag in scan(value)[0].flags]
    assert ("placeholder" in codes) == (len(set(value)) <= 2) or codes == ["empty-hash"]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab1-_.é", min_size=1, max_size=70))
def test_plain_labels_are_domain_labels(labels: str) -> None:
    text = labels + ".com"
    dot = len(labels)
    run = p.NAME_RUN.match(text[::-1], len(text) - dot)
    assert run is not None
    start = len(text) - run.end()
    while start < dot and not text[start].isalnum():
        start += 1
    if start < dot and plain_labels(text, start, dot):
        assert p.DOMAIN_NAME.fullmatch(text, start, len(text)) is not None


def _general_url(value: str) -> object:
    """`normalise_url` without its fast path for the common shape (or the error it raises)."""
    saved = urls._PLAIN_URL
    urls._PLAIN_URL = re.compile(r"(?!)")  # type: ignore[misc]
    try:
        return urls.normalise_url(value)
    except ValueError as error:
        return type(error), str(error)
    finally:
        urls._PLAIN_URL = saved  # type: ignore[misc]


def _url(value: str) -> object:
    try:
        return urls.normalise_url(value)
    except ValueError as error:
        return type(error), str(error)


URL_TEXT = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", ""]),
    st.lists(st.text(alphabet="abz09-_Ab", max_size=70), min_size=1, max_size=5).map(".".join),
    st.sampled_from(["", "/", "?", ":80/", ":8080", "@x/"]),
    st.text(alphabet="az09-._~!$&'()*+,;=:@/?#%A \u00e9[]", max_size=15),
).map("".join)


@settings(max_examples=500, deadline=None)
@given(URL_TEXT)
def test_plain_url_fast_path(value: str) -> None:
    assert _url(value) == _general_url(value)


def test_plain_url_fast_path_edges() -> None:
    for value in ("http://evil.com", "https://a.b.co.uk/x?y=1#z", "http://" + "a" * 64 + ".com/",
                  "http://" + "a." * 130 + "com/", "http://evil.com/a%20b", "http://1.2.3.4/",
                  "http://evil.c0m/", "https://evil.com:443/", " http://evil.com/"):  # fmt: skip
        assert _url(value) == _general_url(value), value
