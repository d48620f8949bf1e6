"""The relations a correlation row names, and the hubs that join its two ends."""

from __future__ import annotations

from typing import Final

REVERSE: Final[dict[str, str]] = {
    "same-value": "same-value",
    "cidr": "contains",
    "contains": "cidr",
    "parent-domain": "subdomain",
    "subdomain": "parent-domain",
    "url-host": "host",
    "host": "url-host",
    "same-file": "same-file",
    "similar": "similar",
}
NETWORK_FAMILY: Final = {"ipv4-net": ("ipv4", "ipv4-net"), "ipv6-net": ("ipv6", "ipv6-net")}
FILE_HUB: Final = "file:"


def relation_of(found: str, kind: str) -> str:
    """The correlation relation for a look-up candidate relation of an observable of ``kind``."""
    if found == "exact":
        return "same-value"
    return "url-host" if kind in ("url", "email") else found
