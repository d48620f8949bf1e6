"""Where a webhook may deliver: an http(s) URL whose host resolves to addresses the node may
reach (`accord.model.webhooks.refused_address`), checked when the webhook is added and again
before every delivery.

The check and the connection use the same address: the delivery goes to the address that was
checked (the URL's host replaced by it), with the name in the ``Host`` header and, over
HTTPS, as the TLS server name, so the certificate is still verified against the name. A
host that resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
rebinding) therefore gains nothing. Redirects are not followed: a receiver cannot send the
node on to an address that was never checked.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import httpx

from accord.model.webhooks import refused_address

MAX_URL_CHARS = 2000


class TargetRefused(ValueError):
    """A webhook URL the node will not deliver to; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL, and how to reach it."""

    url: httpx.URL  # with the checked address in place of the host
    host: str  # the Host header: the name (and port) as written
    server_name: str | None  # the TLS server name (HTTPS only)


def checked_url(url: str) -> httpx.URL:
    """``url`` if it is one a webhook may have (before resolving its host)."""
    if len(url) > MAX_URL_CHARS:
        raise TargetRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise TargetRefused(f"{url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise TargetRefused(f"{url!r}: a webhook URL starts with https:// (or http://)")
    if not parsed.host:
        raise TargetRefused(f"{url!r} names no host")
    if parsed.userinfo:
        raise TargetRefused(
            f"{parsed.host}: put no user name or password in the URL: deliveries are signed "
            "with the webhook's secret, which the receiver checks"
        )
    return parsed


def resolve(url: str, allow_private: bool) -> Target:
    """Check ``url`` and every address its host resolves to; the target to connect to."""
    parsed = checked_url(url)
    name = parsed.raw_host.decode("ascii")  # IDNA-encoded, or an address
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"{parsed.host}: the name does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise TargetRefused(f"{parsed.host}: the name resolves to no address")
    for address in addresses:
        # Every address, not the first: a name with one public and one private address
        # would otherwise reach the private one whenever the resolver put it first.
        reason = refused_address(address.split("%", 1)[0], allow_private)
        if reason is not None:
            raise TargetRefused(f"{parsed.host}: {reason}")
    return Target(
        url=parsed.copy_with(host=addresses[0].split("%", 1)[0]),
        host=parsed.netloc.decode("ascii"),
        server_name=name if parsed.scheme == "https" else None,
    )
