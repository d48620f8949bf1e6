"""Networks that contain an address, limited to the prefix lengths a store actually holds.

`supernets` lists every containing network (/0 to /31, or /127): 128 strings for an IPv6
address. A store that holds, say, only /8, /16 and /24 networks needs three of them, and a
bulk look-up of 10,000 addresses needs 30,000 point queries instead of 320,000.
"""

from __future__ import annotations

from collections.abc import Iterable

from accord.model.addresses import _v4_text, v6_text
from accord.model.observable_types import Observable


def family_of(kind: str) -> str | None:
    """``ipv4-net`` or ``ipv6-net``: the network kind an address or network belongs with."""
    if kind in ("ipv4", "ipv4-net"):
        return "ipv4-net"
    if kind in ("ipv6", "ipv6-net"):
        return "ipv6-net"
    return None


def prefix_of(observable: Observable) -> int | None:
    """The prefix length of a network observable (None for anything else)."""
    if observable.kind not in ("ipv4-net", "ipv6-net"):
        return None
    return int(observable.value.rpartition("/")[2])


def containing_networks(observable: Observable, prefixes: Iterable[int]) -> list[str]:
    """Canonical text of the networks of the given prefix lengths that strictly contain
    ``observable`` (an address or a network); other prefix lengths are skipped."""
    network_kind = family_of(observable.kind)
    if network_kind is None or observable.lo is None:
        return []
    bits = 32 if network_kind == "ipv4-net" else 128
    own = prefix_of(observable)
    own_prefix = bits if own is None else own
    number = int(observable.lo, 16)
    full = (1 << bits) - 1
    found: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not 0 <= prefix < own_prefix:
            continue
        first = number & (full ^ ((1 << (bits - prefix)) - 1))
        text = _v4_text(first) if bits == 32 else v6_text(first)
        found.append(f"{text}/{prefix}")
    return found
