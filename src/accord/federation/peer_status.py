"""How each peer stands (`accord peer status`, ``GET /api/v1/peers/status``, the portal's
Peers page): its last successful pull and push, the lag since each, the last errors and the
cursors. Built here once so that the three show the same thing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accord.store.node import Store
from accord.store.peers import PULL, PUSH, Peer

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"  # the store's time keys (accord.store.objects.now_key)


def lag_seconds(stamp: str | None, now: datetime | None = None) -> float | None:
    """Seconds since ``stamp`` (a store time key), or None for never."""
    if stamp is None:
        return None
    then = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
    return round(((now or datetime.now(UTC)) - then).total_seconds(), 1)


def status_of(store: Store, peer: Peer) -> dict[str, Any]:
    """One peer's status row (never its key)."""
    return {
        "name": peer.name,
        "pull": peer.pull,
        "push": peer.push,
        "last_pull": peer.last_pull,
        "pull_lag_seconds": lag_seconds(peer.last_pull),
        "last_pull_error": peer.last_pull_error,
        "pull_cursor": store.peers.cursor(peer.id, PULL, peer.collection),
        "last_push": peer.last_push,
        "push_lag_seconds": lag_seconds(peer.last_push),
        "last_push_error": peer.last_push_error,
        "push_cursor": store.peers.cursor(peer.id, PUSH, peer.collection),
        "last_attempt": peer.last_attempt,
    }


def status_rows(store: Store) -> list[dict[str, Any]]:
    """Every peer's status row, by name."""
    return [status_of(store, peer) for peer in store.peers.all()]
