"""The compiled regular expressions of the scanner, one per kind of value, and the checks
that a candidate's shape alone cannot make (checksums, suffix list, block sizes).

Every pattern runs over refanged text (see `defang`). They are built to start cheaply: each
begins with a look-behind that rejects a start in the middle of a word, so a pass over a
document costs about one step per character.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Final

from publicsuffixlist import PublicSuffixList

# -- network ------------------------------------------------------------------------------

# Candidates, checked in Python (octets up to 255). Each pattern below starts with a plain
# character class and checks what comes before with a look-behind *after* the first
# character, so that the regex engine can skip to candidate characters with a fast search.
IPV4: Final = re.compile(
    r"(?P<ip>[0-9](?<![\w.][0-9])[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})"
    r"(?:/(?P<cidr>3[0-2]|[12]?[0-9])(?![\w.]))?"
    r"(?::(?P<port>[0-9]{1,5})(?![0-9]))?"
    r"(?![\w]|\.[0-9])"
)


_OCTET: Final = r"(?:0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])"
DOTTED_QUAD: Final = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
"""Four octets of 0-255 without leading zeros: for an `IPV4` candidate, what `valid_octets`
says in one call."""


def valid_octets(address: str) -> bool:
    """Each of the four parts is 0-255 without a leading zero."""
    for part in address.split("."):
        if int(part) > 255 or (len(part) > 1 and part[0] == "0"):
            return False
    return True


# What every `IPV4` match holds after its first octet, found from its literal "." far faster
# than `IPV4` is (it starts with a digit, and digits are everywhere); see
# `pattern_search.ipv4_matches`.
IPV4_TRIGGER: Final = re.compile(r"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")


# "1.2.3.4 port 443", "1.2.3.4 over TCP port 443", "1.2.3.4 on port 8080"
PORT_WORDS: Final = re.compile(
    r"[ \t]+(?:(?:over|on|via)[ \t]+)?(?:(?:tcp|udp)[ \t]+)?port[ \t]+([0-9]{1,5})(?![0-9])",
    re.IGNORECASE,
)
# Candidates only; `ipaddress` decides. A start needs two colons within the first groups
# (checked after the first character: ":" then one more, or a digit then two).
IPV6: Final = re.compile(
    r"(?P<ip>[0-9A-Fa-f:](?<![\w:.].)"
    r"(?:(?<=:)(?=[0-9A-Fa-f]{0,4}:)|(?<=[0-9A-Fa-f])(?=[0-9A-Fa-f]{0,3}:[0-9A-Fa-f]{0,4}:))"
    r"[0-9A-Fa-f:]{1,38}(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?)"
    r"(?:/(?P<cidr>12[0-8]|1[01][0-9]|[1-9]?[0-9])(?![\w.]))?"
    r"(?![\w:])"
)
# Host names: labels of letters, digits, "_" and "-", and a top-level label of letters or
# Punycode. The suffix list decides whether the top-level label exists.
# A dot and a top-level label: where a host name ends. The name's start is found by walking
# back over name characters (`name_start`), which is far cheaper than trying a name at every
# character of a text.
TLD_END: Final = re.compile(
    r"\.(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})(?![\w-]|\.[^\W_])", re.IGNORECASE
)
DOMAIN_NAME: Final = re.compile(
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})",
    re.IGNORECASE,
)
# Characters that may not come right before a host name (it would be part of something else:
# a longer name, an e-mail address, a path, a percent-encoding).
NOT_BEFORE_NAME: Final = frozenset(".@%/\\-_")


# Name characters (`\w` is `str.isalnum()` or "_"), matched forwards over the reversed
# text: one C call instead of a Python loop per character.
NAME_RUN: Final = re.compile(r"[\w.-]{0,253}")
# Letters and digits (`str.isalnum()`: `\w` but "_"), over the reversed text likewise.
ALNUM_RUN: Final = re.compile(r"[^\W_]*")


def name_start(text: str, dot: int, backward: str | None = None) -> int:
    """Where the host name whose last dot is at `dot` starts (at most 253 characters back).

    `backward` is `text[::-1]`, made once per document by a caller that asks many times."""
    if backward is None:
        backward = text[::-1]
    run = NAME_RUN.match(backward, len(text) - dot)
    assert run is not None  # the pattern matches the empty string
    start = dot - (run.end() - run.start())
    while start < dot and not text[start].isalnum():
        start += 1
    return start


# What may follow a host to make it a URL without a scheme: an optional port, then a path.
HOST_TAIL: Final = re.compile(r"(?::[0-9]{1,5})?/(?![/\s])")
URL_SCHEMES: Final = (
    r"https?|ftps?|sftp|wss?|tcp|udp|smb|file|ssh|rdp|telnet|ldaps?|irc|git|socks[45]?"
)
_URL_CHARS: Final = r"[^\s<>\"'`\[\]{}|\\^]"
URL_SEPARATOR: Final = re.compile("://")
URL_SCHEME_NAMES: Final = frozenset(URL_SCHEMES.replace("?", "").split("|")) | frozenset(
    {"http", "ftp", "ws", "ldap", "socks", "socks4", "socks5"}
)
URL_REST: Final = re.compile(rf"\[[0-9A-Fa-f:.]+\]{_URL_CHARS}*|{_URL_CHARS}+")
URL_PATH: Final = re.compile(rf"{_URL_CHARS}*")
# A URL wrapped onto an indented next line (plain-text notes wrap long URLs this way).
URL_CONTINUATION: Final = re.compile(rf"[ \t]*\r?\n[ \t]+(?P<rest>{_URL_CHARS}+)[ \t]*(?=\r?\n|$)")
URL_WRAPPABLE_END: Final = ("/", "?", "&", "=", "-", "_", "%2F", "%2f")
# A query parameter left without its value, at the end of a URL that runs into a
# placeholder: "boat.php?id=[short alphanumeric string]", "/?usuario=[recipient's address]",
# "GET /ajr/?[long string]".
DANGLING_PARAMETER: Final = re.compile(r"[?&](?:[^?&#=/]*=)?$")
EMAIL: Final = re.compile(
    r"(?<![\w.+%=-])(?P<local>[\w.+%=-]{1,64})@"
    r"(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))"
    r"(?![\w-]|\.[^\W_])",
    re.IGNORECASE,
)
# The local part's characters, matched over the reversed text from an "@" (see `EMAIL`).
EMAIL_LOCAL_RUN: Final = re.compile(r"[\w.+%=-]{0,65}")
# Traffic lines of packet-capture notes: "1.2.3.4 port 80 - evil.com - GET /path", where the
# request's URL is spelt out in pieces.
TRAFFIC_LINE: Final = re.compile(
    r"^[ \t]*(?:[-*•][ \t]*)?(?:\S+[ \t]+)?port[ \t]+(?P<port>[0-9]{1,5})"
    r"(?:[ \t]*\((?P<tls>HTTPS?)[^)]*\))?[ \t]+-[ \t]+(?P<host>[^\s]+)[ \t]+-[ \t]+"
    r"(?P<method>GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH)[ \t]+(?P<path>/[^\s\[]*)",
    re.MULTILINE,
)

# Lines of the same notes that say what an address served, with no host name:
# "1.2.3.4 port 2967 - HTTPS traffic", "1.2.3.4:3232 - TLSv1 traffic",
# "1.2.3.4 port 443 - attempted TCP connections". Their writers publish them as the URLs
# "https://1.2.3.4:2967/", "https://1.2.3.4:3232/" and "tcp://1.2.3.4:443/".
SERVICE_LINE: Final = re.compile(
    r"^[ \t]*(?:[-*•][ \t]*)?(?P<host>[0-9]{1,3}(?:\.[0-9]{1,3}){3})"
    r"(?:[ \t]+port[ \t]+|:)(?P<port>[0-9]{1,5})[ \t]+-[ \t]+(?P<what>[^\r\n]*)",
    re.MULTILINE,
)
# A host name field first ("1.2.3.4 port 443 - evil.com - HTTPS traffic"): the notes publish
# such lines as the name, not as a URL, as often as not.
SERVICE_HOST_FIELD: Final = re.compile(r"[^\s]+[ \t]+-[ \t]")
SERVICE_TLS: Final = re.compile(r"\b(?:HTTPS|TLS|SSL)")
SERVICE_TCP: Final = re.compile(r"\bTCP\b")

# -- hashes -------------------------------------------------------------------------------

HEX_HASH: Final = re.compile(r"[0-9A-Fa-f](?<![0-9A-Za-z].)[0-9A-Fa-f]{31,127}(?![0-9A-Za-z])")
HEX_HASH_LENGTHS: Final = frozenset({32, 40, 64, 128})
# `HEX_HASH` over ASCII text mapped byte for byte (hex digit to "h", other letter to "a",
# anything else to " "): a run of 32 "h" is a literal the regex engine finds at memory
# speed, where `HEX_HASH` starts a match at every hex digit; see `pattern_search.hex_runs`.
HEX_CLASSES: Final = bytes(
    ord("h")
    if chr(byte) in "0123456789abcdefABCDEF"
    else ord("a")
    if chr(byte).isalpha() and byte < 128
    else ord(" ")
    for byte in range(256)
)
HEX_RUN: Final = re.compile(b"h" * 32 + rb"h{0,96}(?![ha])")
SSDEEP: Final = re.compile(
    r"(?P<size>[0-9](?<![\w:/+][0-9])[0-9]{0,9})"
    r":(?P<one>[A-Za-z0-9+/]{6,64}):(?P<two>[A-Za-z0-9+/]{2,64})(?![\w+/])"
)

# -- vulnerabilities and techniques ---------------------------------------------------------

# As elsewhere, the first character comes before the look-behind so that the regex engine
# can search for it quickly; spelt case by case rather than with re.IGNORECASE for the same
# reason. The look-behind stands for a leading `\b`.
CVE: Final = re.compile(
    r"[Cc](?<!\w[Cc])[Vv][Ee][-‐‑–](?P<year>[12][0-9]{3})[-‐‑–](?P<number>[0-9]{4,7})\b"
)
# ATT&CK technique (T1xxx, sub-technique T1xxx.yyy) and tactic (TA00xx) ids.
ATTACK: Final = re.compile(
    r"(?P<id>T(?<![\w.-]T)(?:A00[0-9]{2}|1[0-9]{3}(?:\.[0-9]{3})?))(?![\w-]|\.[0-9])"
)
# `ATTACK` as one pattern per prefix ("T1" techniques, "TA00" tactics): a literal of two or
# more characters is found far faster than "T" alone, which starts many words.
ATTACK_BY_PREFIX: Final = (
    re.compile(r"(?P<id>T1(?<![\w.-]T1)[0-9]{3}(?:\.[0-9]{3})?)(?![\w-]|\.[0-9])"),
    re.compile(r"(?P<id>TA00(?<![\w.-]TA00)[0-9]{2})(?![\w-]|\.[0-9])"),
)

# -- host artefacts -------------------------------------------------------------------------

_HIVES: Final[dict[str, str]] = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
_REG_PART: Final = r"[^\\\s\"'<>|`,;*\[\]]+"
# A component may hold spaces ("Windows NT") only when another component follows it: a
# trailing word is more often prose than part of the key.
REGISTRY_KEY: Final = re.compile(
    r"(?P<hive>[Hh](?<![\w\\][Hh])(?:KEY_LOCAL_MACHINE|KEY_CURRENT_USER|KEY_CLASSES_ROOT"
    r"|KEY_USERS|KEY_CURRENT_CONFIG|KLM|KCU|KCR|KU|KCC)):?"
    rf"(?P<rest>(?:\\\\?(?:{_REG_PART}(?: {_REG_PART})*(?=\\)|{_REG_PART}))+)",
    re.IGNORECASE,
)
_PATH_PART: Final = r"[^\\/:*?\"<>|\s`]+"
WINDOWS_PATH: Final = re.compile(
    r"(?<![\w\\%])(?P<root>[A-Za-z]:|%[A-Za-z_()0-9]+%|\\\\[\w.$-]+)"
    rf"(?P<rest>(?:\\{_PATH_PART}(?: {_PATH_PART})*(?=\\)|\\{_PATH_PART})+\\?)"
)
_UNIX_DIRS: Final = (
    "tmp|var|etc|usr|bin|sbin|opt|home|root|dev|lib|lib64|Library|Users|Applications|System"
    "|private|proc|srv|mnt|run|boot|Volumes"
)
UNIX_PATH: Final = re.compile(
    rf"[~/](?<![\w/.:~-][~/])(?:(?<=~)|(?<=/)(?:{_UNIX_DIRS}))"
    r"/[^\s\"'<>|`,;()\[\]{}]+"
)
# Every match of `UNIX_PATH` holds "~/" or one of these. Starting with a literal character,
# this is found several times faster than `UNIX_PATH` (which starts with a character set,
# and "/" is frequent in URLs), so documents without one skip `UNIX_PATH` altogether.
UNIX_DIR_TRIGGER: Final = re.compile(rf"/(?:{_UNIX_DIRS})/")

# What every match of a pattern above holds, found far faster than the pattern itself: the
# scanner searches only the lines that have one (see `pattern_search.matches_on_lines`).
IPV6_TRIGGER: Final = re.compile(r":[0-9A-Fa-f]{0,4}:")
SSDEEP_TRIGGER: Final = re.compile(r":[A-Za-z0-9+/]{6,64}:")
TRAFFIC_TRIGGER: Final = re.compile(r"port[ \t]")
# What a `SERVICE_LINE` holds besides "port " (`TRAFFIC_TRIGGER`): ":443 - ".
SERVICE_COLON_TRIGGER: Final = re.compile(r":[0-9]{1,5}[ \t]+-[ \t]")
CVE_TRIGGER: Final = re.compile(r"[Cc][Vv][Ee]")
REGISTRY_TRIGGER: Final = re.compile(r"[Hh][Kk]")
# (":\\", "%\\" or "\\\\", found from its backslash: a pattern that starts with a literal
# character is searched for far faster than one that starts with a set.)
WINDOWS_PATH_TRIGGER: Final = re.compile(r"\\(?<=[:%\\]\\)")

# -- cryptocurrency -------------------------------------------------------------------------

BITCOIN_LEGACY: Final = re.compile(r"[13](?<![\w][13])[1-9A-HJ-NP-Za-km-z]{25,34}(?![\w])")
# `BITCOIN_LEGACY` as one pattern per first character: a literal first character is found
# three times faster than a set of two (digits are everywhere in reports). Matches of the
# two never overlap (each is a whole word); the scanner merges them in text order.
BITCOIN_LEGACY_BY_START: Final = tuple(
    re.compile(rf"{first}(?<![\w]{first})[1-9A-HJ-NP-Za-km-z]{{25,34}}(?![\w])") for first in "13"
)
BITCOIN_BECH32: Final = re.compile(
    r"(?:b(?<!\wb)c1|B(?<!\wB)C1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}(?![\w])"
)
# `BITCOIN_BECH32` as one pattern per spelling of its prefix (faster, as above).
BITCOIN_BECH32_BY_PREFIX: Final = tuple(
    re.compile(rf"{prefix}(?<!\w{prefix})[02-9ac-hj-np-zAC-HJ-NP-Z]{{11,71}}(?![\w])")
    for prefix in ("bc1", "BC1")
)
ETHEREUM: Final = re.compile(r"0(?<!\w0)x[0-9a-fA-F]{40}(?![\w])")

TRAILING_PUNCTUATION: Final = ".,;:!?'\"*>_~"

_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {char: index for index, char in enumerate(_B58)}


def valid_base58check(text: str) -> bool:
    """A Base58Check string whose 4-byte double-SHA-256 checksum holds (Bitcoin P2PKH/P2SH)."""
    number = 0
    for char in text:
        number = number * 58 + _B58_INDEX[char]
    raw = number.to_bytes(25, "big") if number.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    payload, checksum = raw[:-4], raw[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


_BECH32_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for index in range(5):
            checksum ^= generator[index] if (top >> index) & 1 else 0
    return checksum


def valid_bech32(text: str) -> bool:
    """A Bech32 (BIP 173) or Bech32m (BIP 350) segwit address with a valid checksum."""
    if text != text.lower() and text != text.upper():
        return False
    text = text.lower()
    hrp, _, data = text.rpartition("1")
    if not hrp or len(data) < 6:
        return False
    values = [_BECH32_CHARSET.index(char) for char in data]
    expanded = [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]
    return _bech32_polymod(expanded + values) in (1, 0x2BC830A3)


# ssdeep block sizes are 3 * 2**n (ssdeep's fuzzy.c, SSDEEP_MIN_BLOCKSIZE = 3).
SSDEEP_BLOCK_SIZES: Final = frozenset(3 * 2**n for n in range(31))


def canonical_hive(hive: str) -> str:
    """The full hive name STIX wants at the start of windows-registry-key:key (STIX 2.1
    section 6.13)."""
    upper = hive.upper()
    return _HIVES.get(upper, upper)


# Special-use names (RFC 2606, RFC 6761, RFC 6762 .local, RFC 8375 home.arpa,
# ICANN's .internal) are not in the public suffix list, but an analyst wants to see them
# flagged rather than silently dropped.
SPECIAL_USE_TLDS: Final = frozenset(
    {"example", "test", "invalid", "localhost", "local", "internal"}
)
_SUFFIXES: Final = PublicSuffixList()


def _listed_tlds() -> frozenset[str] | None:
    """The last label of every rule of the bundled list, or None where the library no
    longer shows its rules (then every name is looked up in full).

    Every string the list looks up for a name ends with the name's last label, so a name
    whose last label no rule ends with has no public suffix. Most text that looks like a
    host name ends in a file extension ("setup.exe", "report.pdf"), and this set turns
    those down without a look-up."""
    rules = getattr(_SUFFIXES, "_publicsuffix", None)
    if not isinstance(rules, frozenset | set) or not rules:
        return None
    return frozenset(str(rule).rpartition(".")[2].lstrip("!*") for rule in rules)


_LISTED_TLDS: Final = _listed_tlds()
LISTED_TLDS: Final = None if _LISTED_TLDS is None else _LISTED_TLDS | SPECIAL_USE_TLDS
"""What `tld_listed` accepts, as one set (None where every label is)."""


def tld_listed(tld: str) -> bool:
    """Whether lower-case top-level label `tld` can have a public suffix (see
    `public_suffix`); False means `public_suffix` of any name ending in it is None."""
    return _LISTED_TLDS is None or tld in _LISTED_TLDS or tld in SPECIAL_USE_TLDS


@lru_cache(maxsize=65536)
def public_suffix(name: str) -> str | None:
    """The public suffix of lower-case `name` (from the bundled list; no network), or None
    when its top-level label is not a delegated one."""
    tld = name.rpartition(".")[2]
    if tld in SPECIAL_USE_TLDS:
        return tld
    if not tld_listed(tld):
        return None
    if _RULES is None:
        return _SUFFIXES.publicsuffix(name, accept_unknown=False)
    return _listed_suffix(name, _RULES)


def _rule_names() -> tuple[frozenset[str], frozenset[str], int] | None:
    """The library's rules; every name a rule mentions (with its "!" or "*." or without);
    the most labels a rule has. None where the library no longer shows them."""
    rules = getattr(_SUFFIXES, "_publicsuffix", None)
    most = getattr(_SUFFIXES, "_maxlabel", None)
    if not isinstance(rules, frozenset) or not rules or not isinstance(most, int):
        return None
    names = set(rules)
    for rule in rules:
        if rule.startswith("!"):
            names.add(rule[1:])
        elif rule.startswith("*."):
            names.add(rule[2:])
    return rules, frozenset(names), most


_RULES: Final = _rule_names()
# Top-level labels that are a rule by themselves ("com", "top"): every name that ends in one
# has a public suffix (that label, or a longer one), so asking only whether it has one
# (`has_public_suffix`) needs no look-up.
_RULE_TLDS: Final = (
    frozenset(rule for rule in _RULES[0] if "." not in rule and rule[0] not in "!*")
    if _RULES is not None
    else frozenset()
)


def has_public_suffix(name: str) -> bool:
    """`public_suffix(name) is not None`, for a lower-case `name` without empty labels (a
    canonical host name)."""
    return name.rpartition(".")[2] in _RULE_TLDS or public_suffix(name) is not None


def _listed_suffix(name: str, rules: tuple[frozenset[str], frozenset[str], int]) -> str | None:
    """`_SUFFIXES.publicsuffix(name, accept_unknown=False)`, computed as the library does
    (publicsuffixlist's `_countpublic`: the longest suffix that an exception, a wildcard or a
    rule names decides, checked in that order) but with one set look-up per suffix: most
    suffixes of a name are named by no rule, and the library's three look-ups and label
    joins per suffix cost twice as much. (No rule has more labels than the library's
    `_maxlabel`, so its starting point needs no counterpart here.)"""
    listed, named, _ = rules
    domain = (name[:-1] if name.endswith(".") else name).lower()
    if not domain or domain[0] == "." or domain[-1] == "." or ".." in domain:
        return None  # an empty label
    suffix, longer = domain, ""
    skipped = 0  # labels left of `suffix`
    while suffix not in named:
        dot = suffix.find(".")
        if dot < 0:
            return None
        suffix, longer = suffix[dot + 1 :], suffix
        skipped += 1
    if "!" + suffix in listed:
        return suffix.partition(".")[2] or None  # the exception's parent is public
    if "*." + suffix in listed and skipped:
        return longer  # one label more than the wildcard's base
    return suffix
