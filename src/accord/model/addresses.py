"""IPv4/IPv6 addresses and CIDR networks: canonical text, hex ranges, containing networks.

Canonical text is what `ipaddress` prints: dotted quad for IPv4 and the RFC 5952 compressed
form for IPv6. A network is written with its network address ("10.1.2.3/8" is "10.0.0.0/8":
host bits are masked, not refused, because feeds write CIDRs that way), and a network of one
address (/32, /128) *is* that address, so "10.1.2.3/32" and "10.1.2.3" index the same.
IPv4-mapped IPv6 ("::ffff:1.2.3.4", RFC 4291 section 2.5.5.2) is the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from accord.model.observable_types import Observable, ObservableError

_MAPPED_V4: Final = ipaddress.IPv6Network("::ffff:0:0/96")
_MAPPED_BASE: Final = int(_MAPPED_V4.network_address)


def _v4_text(number: int) -> str:
    # Faster than str(IPv4Address(n)) and identical for 0 <= n < 2**32.
    return f"{number >> 24}.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"


def v6_text(number: int) -> str:
    """RFC 5952 text of an IPv6 address, as `str(IPv6Address(number))` prints it for any
    address that is not IPv4-mapped (Python 3.13 prints those dotted; they never reach here),
    about ten times faster: `supernets` formats 128 of them per look-up."""
    hextets = [(number >> shift) & 0xFFFF for shift in range(112, -16, -16)]
    best_start, best_length, start = -1, 1, -1
    for index, hextet in enumerate(hextets):
        if hextet == 0:
            if start == -1:
                start = index
            if index - start + 1 > best_length:  # the first longest run of two or more
                best_start, best_length = start, index - start + 1
        else:
            start = -1
    if best_start == -1:
        return ":".join(f"{hextet:x}" for hextet in hextets)
    head = ":".join(f"{hextet:x}" for hextet in hextets[:best_start])
    tail = ":".join(f"{hextet:x}" for hextet in hextets[best_start + best_length :])
    return f"{head}::{tail}"


def _address(number: int, version: int) -> Observable:
    if version == 4:
        hex_text = f"{number:08x}"
        return Observable("ipv4", _v4_text(number), lo=hex_text, hi=hex_text)
    hex_text = f"{number:032x}"
    return Observable("ipv6", v6_text(number), lo=hex_text, hi=hex_text)


def _network(first: int, prefix: int, version: int) -> Observable:
    bits = 32 if version == 4 else 128
    if prefix == bits:
        return _address(first, version)
    last = first | ((1 << (bits - prefix)) - 1)
    if version == 4:
        return Observable(
            "ipv4-net", f"{_v4_text(first)}/{prefix}", lo=f"{first:08x}", hi=f"{last:08x}"
        )
    text = f"{v6_text(first)}/{prefix}"
    return Observable("ipv6-net", text, lo=f"{first:032x}", hi=f"{last:032x}")


# A dotted quad as `ipaddress` accepts it: four ASCII decimal octets, 0-255, no leading
# zeros. Such text is its own canonical form; anything else takes the general path.
_OCTET: Final = r"(0|[1-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5])"
_DOTTED_QUAD: Final = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def dotted_quad(text: str) -> Observable | None:
    """The IPv4 address `text` is when it is a dotted quad as `ipaddress` accepts it (no
    white space around), else None; for such text what `parse_address` returns."""
    quad = _DOTTED_QUAD.fullmatch(text)
    if quad is None:
        return None
    a, b, c, d = quad.groups()
    hex_text = f"{int(a):02x}{int(b):02x}{int(c):02x}{int(d):02x}"
    return Observable("ipv4", text, lo=hex_text, hi=hex_text)


def parse_address(value: str) -> Observable:
    """An IPv4 or IPv6 address or network of either family, whichever `value` is.

    Raises `ObservableError` when it is neither.
    """
    text = value.strip()
    quad = dotted_quad(text)
    if quad is not None:  # the common case, without `ipaddress` (identical results)
        return quad
    if "/" in text:
        return _parse_network(text)
    try:
        if ":" in text:
            v6 = ipaddress.IPv6Address(text)
            if v6.scope_id is not None:
                # A zone index ("fe80::1%eth0") names an interface on one host; it is not
                # an observable anyone else can see (RFC 4007 section 11).
                raise ObservableError(f"IPv6 address with a zone index: {value!r}")
            mapped = v6.ipv4_mapped
            if mapped is not None:
                return _address(int(mapped), 4)
            return _address(int(v6), 6)
        return _address(int(ipaddress.IPv4Address(text)), 4)
    except ipaddress.AddressValueError as exc:
        raise ObservableError(f"not an IP address: {value!r} ({exc})") from None


def may_be_address(value: str) -> bool:
    """False only where `parse_address(value)` is sure to raise: text without ":" or "/"
    is an address only as a dotted quad (`ipaddress` accepts no other IPv4 spelling), so a
    caller that tries names after addresses can skip the failed parse (an exception raised
    and caught costs more than the rest of normalising a URL)."""
    return ":" in value or "/" in value or _DOTTED_QUAD.fullmatch(value.strip()) is not None


def _parse_network(text: str) -> Observable:
    address_text = text.partition("/")[0]
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ObservableError(f"not an IP network: {text!r} ({exc})") from None
    if isinstance(network, ipaddress.IPv6Network):
        if "%" in address_text:
            raise ObservableError(f"IPv6 network with a zone index: {text!r}")
        first = int(network.network_address)
        if network.prefixlen >= 96 and network.subnet_of(_MAPPED_V4):
            return _network(first - _MAPPED_BASE, network.prefixlen - 96, 4)
        return _network(first, network.prefixlen, 6)
    return _network(int(network.network_address), network.prefixlen, 4)


def normalise_address(kind: str, value: str) -> Observable:
    """Normalise `value` given as `kind` ("ipv4", "ipv6", "ipv4-net" or "ipv6-net").

    The family must match: IPv4 kinds take IPv4 text (or IPv4-mapped IPv6, which is IPv4),
    IPv6 kinds take IPv6 text. Address and network kinds are interchangeable within a family,
    because STIX `ipv4-addr:value` itself may hold either (STIX 2.1 section 6.4.1); the
    returned kind says which it turned out to be.
    """
    observable = parse_address(value)
    wants_v4 = kind in ("ipv4", "ipv4-net")
    # For IPv6 kinds the text must be IPv6, even when it carries an IPv4 address
    # ("::ffff:1.2.3.4" comes back as IPv4).
    ok = observable.kind in ("ipv4", "ipv4-net") if wants_v4 else ":" in value
    if not ok:
        family = "IPv4" if wants_v4 else "IPv6"
        raise ObservableError(f"not an {family} address or network: {value!r}")
    return observable


def supernets(observable: Observable) -> list[str]:
    """Canonical text of every CIDR network that strictly contains `observable`.

    From /0 up to one bit shorter than its own prefix (an address is its own /32 or /128,
    which is the address itself and so excluded). Meant for point look-ups of the form
    `value IN (...)`. Returns [] for kinds that are not addresses or networks.
    """
    if observable.kind in ("ipv4", "ipv4-net"):
        bits = 32
    elif observable.kind in ("ipv6", "ipv6-net"):
        bits = 128
    else:
        return []
    if observable.lo is None:
        raise ObservableError(f"address observable without a range: {observable.value!r}")
    number = int(observable.lo, 16)
    _, slash, prefix_text = observable.value.partition("/")
    own_prefix = int(prefix_text) if slash else bits
    full = (1 << bits) - 1
    result: list[str] = []
    for prefix in range(own_prefix):
        first = number & (full ^ ((1 << (bits - prefix)) - 1))
        text = _v4_text(first) if bits == 32 else v6_text(first)
        result.append(f"{text}/{prefix}")
    return result
