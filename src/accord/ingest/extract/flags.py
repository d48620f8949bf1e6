"""Why an extracted value may be benign, or not an indicator at all.

The checks here need nothing but the value and where it was written: documentation and
special-use addresses and names, private and reserved ranges, version numbers that look like
addresses, file names that look like domains, hashes of empty input, and values written in
the clear in a report that defangs its indicators (the writer's own sign that they are
references, not indicators).

Lists maintained elsewhere (MISP warninglists: cloud ranges, top sites, public resolvers, ...)
live in the intel layer, which this layer may not import. They come in through `Flagger`: a
callable given each normalised `Observable` that returns the reasons it is listed, e.g.
``lambda o: [f"on warninglist {name}" for name in warninglists.hits(o)]``. The CLI and the
API pass one in; without it only the built-in checks run.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Final

from accord.ingest.extract.findings import Finding, Flag
from accord.ingest.extract.patterns import SPECIAL_USE_TLDS
from accord.model.observable_types import Observable

Flagger = Callable[[Observable], list[str]]
"""Extra checks from outside this layer (e.g. warninglists): reasons, or [] when none."""

NETWORK_KINDS: Final = frozenset(
    {"ipv4", "ipv6", "ipv4-net", "ipv6-net", "domain", "url", "email", "onion"}
)

_HEX_HASH_KINDS: Final = frozenset({"md5", "sha1", "sha256", "sha512"})
_ADDRESS_KINDS: Final = frozenset({"ipv4", "ipv6", "ipv4-net", "ipv6-net"})
_HOST_KINDS: Final = frozenset({"domain", "url", "email", "onion"})
# Kinds a report cites as sources (pages, sites, contacts); addresses are rarely cited so.
_REFERENCE_KINDS: Final = frozenset({"domain", "url", "email"})
_DOCUMENTATION_NETS: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.0.2.0/24",  # RFC 5737 TEST-NET-1
        "198.51.100.0/24",  # RFC 5737 TEST-NET-2
        "203.0.113.0/24",  # RFC 5737 TEST-NET-3
        "2001:db8::/32",  # RFC 3849
        "3fff::/20",  # RFC 9637
    )
)
# RFC 2606 section 3: the second-level names reserved for documentation.
_EXAMPLE_DOMAINS: Final = frozenset({"example.com", "example.net", "example.org"})
_EXAMPLE_SUFFIXES: Final = tuple("." + name for name in sorted(_EXAMPLE_DOMAINS))
# Hashes of zero bytes: a tool's output for an empty file, never a sample.
_EMPTY_HASHES: Final = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    }
)
# Top-level domains that are also common file extensions: "setup.zip", "notes.md" and
# "run.sh" are more often files than hosts when written in the clear.
_FILE_EXTENSION_TLDS: Final = frozenset(
    {"zip", "mov", "py", "sh", "pl", "rs", "md", "ps", "so", "cab", "bat", "exe", "dll", "doc"}
)
# Hosts that reports cite as sources, not as indicators. Small on purpose: the warninglists
# (through a `Flagger`) carry the long lists.
_REFERENCE_HOSTS: Final = frozenset(
    {
        "virustotal.com",
        "any.run",
        "tria.ge",
        "abuse.ch",
        "twitter.com",
        "x.com",
        "linkedin.com",
        "malware-traffic-analysis.net",
        "welivesecurity.com",
        "paloaltonetworks.com",
        "mitre.org",
        "nist.gov",
        "decoded.avast.io",
        "avast.com",
        "eset.com",
        "shodan.io",
        "urlscan.io",
        "hybrid-analysis.com",
        "joesandbox.com",
        "bleepingcomputer.com",
        "microsoft.com",
        "wikipedia.org",
    }
)
_VERSION_BEFORE: Final = re.compile(
    r"(?:\bv|\bversion|\bver\.?|\bbuild|\brelease|\bupdate)[ \t:]*$", re.IGNORECASE
)


def built_in_flags(finding: Finding, report_defangs: bool) -> list[Flag]:
    """The flags this module can decide for `finding` alone.

    `report_defangs` says whether the document defanged any network value. The few
    characters before the value (`BEFORE`) are read only for the checks that need them.
    """
    check = BUILT_IN_CHECKS.get(finding.kind)
    return [] if check is None else check(finding, report_defangs)


def _hash_flags(finding: Finding, report_defangs: bool) -> list[Flag]:
    value = finding.value
    if value in _EMPTY_HASHES:
        return [Flag("empty-hash", "the hash of empty input")]
    first, second, third = value[0], value[1], value[2]
    if first != second and second != third and first != third:
        return []  # three different digits already: not a placeholder
    rest = value.replace(first, "")
    if not rest or not rest.replace(rest[0], ""):  # at most two distinct digits
        return [Flag("placeholder", "a repeated digit: a placeholder, not a hash")]
    return []


def _address_kind_flags(finding: Finding, report_defangs: bool) -> list[Flag]:
    kind = finding.kind
    flags = list(address_flags(finding.value, kind))  # cached: shared, never mutated
    if kind == "ipv4" and _VERSION_BEFORE.search(_text_before(finding)):
        flags.append(Flag("version", "written after 'version'/'v': likely a version number"))
    return flags  # (addresses are rarely cited as references: no "reference" check)


def _host_kind_flags(finding: Finding, report_defangs: bool) -> list[Flag]:
    kind = finding.kind
    host = _host_of(finding)
    flags = _host_flags(host, kind, finding.defanged) if host is not None else ()
    if (
        report_defangs
        and kind in _REFERENCE_KINDS
        and not finding.defanged
        and finding.derived is None
        and not any(flag.code in ("documentation", "private") for flag in flags)
        and not _set_apart(_text_before(finding))
    ):
        return [*flags, _REFERENCE]
    return list(flags)


# Flags are frozen, so one can be shared by every finding it applies to.
_REFERENCE: Final = Flag(
    "reference",
    "written in the clear in a report that defangs its indicators: "
    "likely a reference or a benign host",
)


BUILT_IN_CHECKS: Final[dict[str, Callable[[Finding, bool], list[Flag]]]] = {
    **dict.fromkeys(_HEX_HASH_KINDS, _hash_flags),
    **dict.fromkeys(_ADDRESS_KINDS, _address_kind_flags),
    **dict.fromkeys(_HOST_KINDS, _host_kind_flags),
}
"""`built_in_flags` by kind, for a caller that flags many findings."""


BEFORE: Final = 12
"""Characters before a value that the version and set-apart checks read."""


def _text_before(finding: Finding) -> str:
    return finding.source[max(0, finding.start - BEFORE) : finding.start]


def _set_apart(text_before: str) -> bool:
    """Whether the writer set the value apart as data: in a code span or a table cell, or
    escaped from auto-linking (AsciiDoc's backslash, Markdown's angle brackets)."""
    last = text_before.rstrip(" \t")[-1:]
    return last in ("`", "|", "\\", "+", "<") or text_before.endswith("\t")


def external_flags(finding: Finding, flagger: Flagger | None) -> list[Flag]:
    """The reasons an injected `flagger` gives for `finding`'s observable (and its host)."""
    if flagger is None or finding.observable is None:
        return []
    reasons = list(flagger(finding.observable))
    return [Flag("warninglist", reason) for reason in _unique(reasons)]


def _unique(reasons: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(reasons))


# The special-purpose checks of `_address_flags`, in the order they are tried: the first that
# holds gives the flag. Names of `ipaddress` address properties, tried one at a time so that a
# loopback address never pays for the long private-range test.
_ADDRESS_CHECKS: Final = (
    ("loopback", "is_loopback", "a loopback address"),
    ("private", "is_link_local", "a link-local address"),
    ("private", "is_multicast", "a multicast address"),
    ("private", "is_unspecified", "the unspecified address"),
    ("private", "is_private", "a private or special-purpose address (RFC 6890)"),
    ("private", "is_reserved", "a reserved address"),
)
_CGNAT: Final = ipaddress.IPv4Network("100.64.0.0/10")


# Where `_address_flags` can flag an IPv4 address: the blocks of the IANA IPv4
# Special-Purpose Address Registry (RFC 6890 and its updates: 0/8, 10/8, 100.64/10, 127/8,
# 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.31.196/24, 192.52.193/24,
# 192.88.99/24, 192.168/16, 192.175.48/24, 198.18/15, 198.51.100/24, 203.0.113/24,
# 240/4, 255.255.255.255), of which `ipaddress` takes its private and reserved ranges, and
# multicast 224/4; by first octet, or first two where the block is smaller than a /8.
# Parsing an address with `ipaddress` and asking it six questions costs more than finding
# it; one outside these blocks (nearly every address in a report) gets no flag without.
SPECIAL_IPV4_FIRST_OCTETS: Final = frozenset(
    ["0", "10", "127"] + [str(octet) for octet in range(224, 256)]
)
SPECIAL_IPV4_FIRST_TWO_OCTETS: Final = frozenset(
    [f"100.{octet}" for octet in range(64, 128)]
    + [f"172.{octet}" for octet in range(16, 32)]
    + ["169.254", "192.0", "192.31", "192.52", "192.88", "192.168", "192.175"]
    + ["198.18", "198.19", "198.51", "203.0"]
)
_TWO_OCTET_FIRSTS: Final = frozenset(
    prefix.partition(".")[0] for prefix in SPECIAL_IPV4_FIRST_TWO_OCTETS
)


def address_flags(value: str, kind: str) -> tuple[Flag, ...]:
    """The flags of canonical address or network `value` of `kind` (see `_address_flags`)."""
    if kind == "ipv4":
        first, _, rest = value.partition(".")
        if first not in SPECIAL_IPV4_FIRST_OCTETS and (
            first not in _TWO_OCTET_FIRSTS
            or f"{first}.{rest.partition('.')[0]}" not in SPECIAL_IPV4_FIRST_TWO_OCTETS
        ):
            return ()
    return _address_flags(value, kind)


@lru_cache(maxsize=16384)
def _address_flags(value: str, kind: str) -> tuple[Flag, ...]:
    # A single address (the common case) is parsed as an address: building a /32 network
    # and testing it with `subnet_of` costs several times more and says the same.
    try:
        if "/" in value:
            network = ipaddress.ip_network(value, strict=False)
            address = network.network_address
        else:
            network = None
            address = ipaddress.ip_address(value)
    except ValueError:
        return ()
    for documentation in _DOCUMENTATION_NETS:
        if address.version != documentation.version:
            continue
        inside = (
            network.subnet_of(documentation)  # type: ignore[arg-type]
            if network is not None
            else address in documentation
        )
        if inside:
            return (Flag("documentation", f"in {documentation}, reserved for documentation"),)
    for code, check, reason in _ADDRESS_CHECKS:
        if getattr(address, check):
            return (Flag(code, reason),)
    if address.version == 4 and address in _CGNAT:
        return (Flag("private", "carrier-grade NAT space (RFC 6598)"),)
    return ()


def _host_of(finding: Finding) -> str | None:
    if finding.kind in ("domain", "onion"):
        return finding.value
    observable = finding.observable  # (made already for URLs and e-mail addresses)
    if observable is not None and observable.rdomain is not None:
        return observable.host
    return None


@lru_cache(maxsize=65536)
def _host_flags(host: str, kind: str, defanged: bool) -> tuple[Flag, ...]:
    tld = host.rpartition(".")[2]
    if tld in SPECIAL_USE_TLDS or host in _EXAMPLE_DOMAINS or host.endswith(_EXAMPLE_SUFFIXES):
        return (Flag("documentation", f"{host} is a special-use or documentation name"),)
    flags: list[Flag] = []
    if kind == "domain" and tld in _FILE_EXTENSION_TLDS and host.count(".") == 1 and not defanged:
        flags.append(Flag("file-name", f".{tld} is also a file extension: likely a file name"))
    if not defanged:
        # The host and each parent of two labels or more, nearest first.
        parent = host
        while "." in parent:
            if parent in _REFERENCE_HOSTS:
                flags.append(Flag("benign-host", f"{parent} is a well-known benign host"))
                break
            parent = parent.partition(".")[2]
    return tuple(flags)
