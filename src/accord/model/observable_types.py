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


@dataclass(frozen=True, slots=True)
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
