"""Webhooks in pure terms (docs/webhooks.md): what a webhook asks for, how a delivery is
signed, how long a failing one waits, and which addresses a delivery may not reach.

The store (`accord.store.webhooks`) keeps webhooks; the dispatcher
(`accord.federation.webhooks`) reads new versions through the visibility rule and applies
these filters on top: the filters narrow what the webhook's user may see, never widen it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.model.tlp import Tlp

SIGNATURE_HEADER = "X-Accord-Signature"
TIMESTAMP_HEADER = "X-Accord-Timestamp"
WEBHOOK_HEADER = "X-Accord-Webhook"
DELIVERY_HEADER = "X-Accord-Delivery"

# TLP 2.0: RED is "for the eyes and ears of individual recipients only". A webhook is a
# machine of the organisation, not an individual, so RED goes to one only when asked for.
DEFAULT_MAX_TLP = Tlp.AMBER_STRICT

FIRST_RETRY_SECONDS = 30.0
LONGEST_RETRY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class WebhookFilters:
    """What a webhook delivers, of what its user may see: each field empty means "any"
    (``tlps`` is never empty: see `DEFAULT_MAX_TLP`)."""

    types: tuple[str, ...] = ()  # STIX types, e.g. "indicator"
    tlps: frozenset[Tlp] = frozenset(level for level in Tlp if level <= DEFAULT_MAX_TLP)
    labels: tuple[str, ...] = ()  # any one of them (an object without labels never matches)

    @classmethod
    def build(
        cls,
        types: Iterable[str] = (),
        max_tlp: Tlp | None = None,
        tlps: Iterable[Tlp] = (),
        labels: Iterable[str] = (),
    ) -> WebhookFilters:
        """Filters from a caller's choices: ``max_tlp`` (every level up to it) or ``tlps`` (a
        set), not both; neither: up to `DEFAULT_MAX_TLP`. ValueError says what is wrong."""
        chosen = frozenset(tlps)
        if max_tlp is not None and chosen:
            raise ValueError("give either a maximum TLP or a set of TLP levels, not both")
        if not chosen:
            top = DEFAULT_MAX_TLP if max_tlp is None else max_tlp
            chosen = frozenset(level for level in Tlp if level <= top)
        kinds = tuple(dict.fromkeys(t.strip() for t in types if t.strip()))
        for kind in kinds:
            if not kind.replace("-", "").isalnum() or kind != kind.lower():
                raise ValueError(f"{kind!r} is not a STIX type name (such as indicator)")
        wanted = tuple(dict.fromkeys(label for label in labels if label))
        return cls(kinds, chosen, wanted)

    def admits(self, kind: str, tlp: Tlp, labels: Sequence[str]) -> bool:
        """Whether a version the user may see goes out on this webhook."""
        if self.types and kind not in self.types:
            return False
        if tlp not in self.tlps:
            return False
        return not self.labels or any(label in self.labels for label in labels)

    def as_json(self) -> dict[str, Any]:
        return {
            "types": list(self.types),
            "tlps": [level.slug for level in sorted(self.tlps)],
            "labels": list(self.labels),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> WebhookFilters:
        return cls(
            tuple(value.get("types", ())),
            frozenset(Tlp.parse(slug) for slug in value.get("tlps", ())),
            tuple(value.get("labels", ())),
        )


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Accord-Signature`` value: HMAC-SHA256, keyed with the webhook's secret, of the
    timestamp, a full stop and the body, as ``sha256=<hex>``. The timestamp is signed so that
    a receiver that refuses old timestamps cannot be replayed an old delivery."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (docs/webhooks.md has it as a snippet), in constant time."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def retry_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: 30 s, 1 min, 2 min, ...,
    at most an hour."""
    if failures < 1:
        return 0.0
    return min(FIRST_RETRY_SECONDS * float(2 ** min(failures - 1, 20)), LONGEST_RETRY_SECONDS)


def refused_address(address: str, allow_private: bool) -> str | None:
    """Why a delivery may not go to ``address`` (an IP address a webhook's host resolves
    to), or None. A webhook's address is chosen by an org-admin, and the node sends to it:
    without this, an org-admin could make the node reach its own loopback services, the
    internal network or a cloud metadata service (server-side request forgery). Loopback,
    private, link-local, shared (CGNAT) and reserved addresses are refused unless the node
    allows private targets; unspecified and multicast addresses always."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified or ip.is_multicast:
        return f"{ip} is not an address a webhook can be delivered to"
    if ip.is_global or allow_private:
        return None
    if ip.is_loopback:
        kind = "a loopback"
    elif ip.is_link_local:
        kind = "a link-local"
    elif ip.is_private:
        kind = "a private"
    else:
        kind = "a reserved or non-public"
    return (
        f"{ip} is {kind} address: webhooks go to public addresses only "
        "(a node that delivers inside its own network sets ACCORD_WEBHOOK_ALLOW_PRIVATE=1)"
    )
