"""Token buckets and the client address they count, shared by the API's limits
(`accord.api.auth`) and the portal's sign-in (`accord.web.pages.account`). Beside the layers,
like `accord.settings`: both the API and the portal need them."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """A token bucket per key: ``rate`` tokens a second, at most ``burst`` saved up.

    At most ``max_keys`` buckets are kept: past that, buckets that have filled up again (as
    good as new) are dropped, and if that is not enough, all of them (keys an attacker makes
    up, such as claimed accounts, cannot grow the table without bound)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if the request may go ahead (a token is taken), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_keys:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def wait(self, key: str) -> float:
        """The seconds until ``key`` has a token (0: it has one now); takes none."""
        found = self._buckets.get(key)
        if found is None:
            return 0.0
        tokens = min(float(self.burst), found[0] + (time.monotonic() - found[1]) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [
            key
            for key, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self.max_keys // 2:
            self._buckets.clear()


def client_address(
    client: tuple[str, int] | None, forwarded: str | None, trusted: frozenset[str]
) -> str:
    """The address the limits count for a request from peer ``client``: the peer itself,
    unless it is a trusted proxy (``Settings.trusted_proxies``); then the last address of
    ``X-Forwarded-For`` (``forwarded``) that is not a trusted proxy. Without a peer (an
    in-process call): ``"-"``."""
    peer = client[0] if client else "-"
    if not trusted or peer not in trusted or not forwarded:
        return peer
    for hop in reversed(forwarded.split(",")):
        hop = hop.strip()
        if hop and hop not in trusted:
            return hop
    return peer
