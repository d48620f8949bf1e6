"""The vocabulary of the observable index: kinds, the normalised value, the error.

Kept apart from the normalisers so that every normaliser module (addresses, domains, URLs,
hashes) and the STIX pattern reader can share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Kind = Literal[
    "ipv4",
    "ipv6",
    "ipv4-net",
    "ipv6-net",
    "domain",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "sha3-256",
    "sha3-512",
    "ssdeep",
    "tlsh",
]

KINDS: Final[frozenset[str]] = frozenset(get_args(Kind))
ADDRESS_KINDS: Final[frozenset[str]] = frozenset({"ipv4", "ipv6", "ipv4-net", "ipv6-net"})
HASH_KINDS: Final[frozenset[str]] = frozenset(
    {"md5", "sha1", "sha256", "sha512", "sha3-256", "sha3-512", "ssdeep", "tlsh"}
)


# How STIX 2.1 writes a value of each kind: the cyber-observable type that holds it (section
# 6), or, for hashes, the hash-algorithm name of a file's hashes (section 10.7).
SCO_TYPE_OF_KIND: Final[dict[str, str]] = {
    "ipv4": "ipv4-addr",
    "ipv4-net": "ipv4-addr",
    "ipv6": "ipv6-addr",
    "ipv6-net": "ipv6-addr",
    "domain": "domain-name",
    "url": "url",
    "email": "email-addr",
}
HASH_NAME_OF_KIND: Final[dict[str, str]] = {
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha256": "SHA-256",
    "sha512": "SHA-512",
    "sha3-256": "SHA3-256",
    "sha3-512": "SHA3-512",
    "ssdeep": "SSDEEP",
    "tlsh": "TLSH",
}


# Not frozen: a frozen dataclass's __init__ costs 1 µs more per object, and look-ups build
# these by the ten thousand. Hashable as a frozen one is; nothing assigns to them.
@dataclass(slots=True, unsafe_hash=True)
class Observable:
    """One normalised observable: what the index stores and every look-up compares against."""

    kind: str
    """One of `Kind`. A plain `str` so rows read back from a database need no cast."""
    value: str
    """Canonical text; the index key. Equal observables have equal `(kind, value)`."""
    host: str | None = None
    """url: canonical host (domain or IP text, IPv6 without brackets, no port);
    email: canonical domain."""
    lo: str | None = None
    """Addresses and networks: first address as fixed-width lower-case hex (8 digits for IPv4,
    32 for IPv6), so that string order is numeric order and range queries need no big ints."""
    hi: str | None = None
    """Last address, same form (equal to `lo` for a single address)."""
    rdomain: str | None = None
    """domain, or url/email whose host is a domain: labels reversed and joined by "." with a
    trailing "." ("com.example.www."), so `LIKE 'com.example.%'` finds every subdomain."""


class ObservableError(ValueError):
    """A value that cannot be normalised as the kind asked for; the message says why."""
