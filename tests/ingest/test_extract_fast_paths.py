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

from accord.ingest.extract import defang
from accord.ingest.extract import patterns as p
from accord.ingest.extract.defang import refang_text
from accord.ingest.extract.flags import _address_flags
from accord.ingest.extract.scanner import _line_start_matches, _matches_on_lines, _Scan

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
        assert spans(_matches_on_lines(pattern, text, trigger)) == spans(pattern.finditer(text))
    traffic = _line_start_matches(p.TRAFFIC_LINE, text, p.TRAFFIC_TRIGGER)
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
