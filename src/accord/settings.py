"""Node settings, read once from the environment by the command line or the server."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from accord.model.tlp import Tlp

WarninglistClass = Literal["benign", "context"]

DEFAULT_DATABASE_URL = "sqlite:///var/accord.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the store: a SQLite file (default, under ./var/) or PostgreSQL
    (``postgresql://user@host/db``). Environment: ``ACCORD_DATABASE_URL``."""

    default_tlp: Tlp = Tlp.AMBER
    """TLP for objects that arrive with no TLP marking and no ``--tlp``. TLP 2.0 leaves the
    default to the community; AMBER errs on the side of not sharing. ``ACCORD_DEFAULT_TLP``."""

    public_lookups: bool = False
    """Whether anonymous callers may look up values (they see TLP:CLEAR only).
    ``ACCORD_PUBLIC_LOOKUPS=1``."""

    rate_per_second: float = 100.0
    """Requests per second each API key may make on average (a token bucket per key and
    worker process). ``ACCORD_RATE_PER_SECOND``."""

    rate_burst: int = 400
    """Requests a key may make at once before the rate applies. ``ACCORD_RATE_BURST``."""

    auth_failure_burst: int = 10
    """Failed authentications (a wrong, unknown or revoked key, a malformed header) allowed
    in a row, counted separately per client address and per claimed account (the key id of
    ``acc_<id>_<secret>``, or the Basic user name); after that a key not already checked by
    this worker answers 429 with ``Retry-After`` until the count recovers, without the key
    being looked at. A good key from another address, for another account, still works.
    ``ACCORD_AUTH_FAILURE_BURST``."""

    auth_failures_per_minute: float = 6.0
    """How fast that allowance recovers: failed authentications per minute, per address and
    per account, in the long run. ``ACCORD_AUTH_FAILURES_PER_MINUTE``."""

    anonymous_per_second: float = 5.0
    """Anonymous look-ups (``public_lookups``) each client address may make per second, on
    average; more answer 429 with ``Retry-After``, before anything is looked up or audited.
    ``ACCORD_ANONYMOUS_PER_SECOND``."""

    anonymous_burst: int = 50
    """Anonymous look-ups an address may make at once. ``ACCORD_ANONYMOUS_BURST``."""

    anonymous_node_per_second: float = 50.0
    """Anonymous look-ups the whole node (each worker) answers per second, from all
    addresses together: what bounds the audit log's growth under a flood from many
    addresses. ``ACCORD_ANONYMOUS_NODE_PER_SECOND``."""

    anonymous_node_burst: int = 500
    """Anonymous look-ups the node answers at once. ``ACCORD_ANONYMOUS_NODE_BURST``."""

    anonymous_bulk_max: int = 100
    """Most values an anonymous bulk look-up may hold (authenticated ones: 10,000); more
    answer 422. ``ACCORD_ANONYMOUS_BULK_MAX``."""

    trusted_proxies: frozenset[str] = frozenset()
    """Addresses of reverse proxies in front of the node. The client address the limits
    count is the connection's peer; only when that peer is one of these is the
    ``X-Forwarded-For`` header believed (its last address that is not a trusted proxy).
    Empty by default: the header is ignored, since any client can send it.
    ``ACCORD_TRUSTED_PROXIES`` (comma-separated)."""

    max_body_bytes: int = 128 * 1024 * 1024
    """Largest request body accepted; larger ones get 413. ATT&CK Enterprise is 38 MB.
    ``ACCORD_MAX_BODY_BYTES``."""

    key_cache_seconds: float = 5.0
    """How long a worker trusts an API key it has checked, before asking the database again
    (so a revoked key stops working within this time). ``ACCORD_KEY_CACHE_SECONDS``."""

    warninglists: bool = True
    """Check look-ups against the MISP warninglists (compiled once into a cache under
    ``var/cache``, or ``ACCORD_CACHE_DIR``). ``ACCORD_WARNINGLISTS=0`` turns it off."""

    warninglists_ignore: frozenset[str] = frozenset()
    """Names of warninglists this node does not use, e.g. the documentation ranges on a demo
    node whose made-up data lives there. ``ACCORD_WARNINGLISTS_IGNORE`` (comma-separated)."""

    warninglist_classes: tuple[tuple[str, WarninglistClass], ...] = ()
    """This node's own class for some warninglists, over the reviewed table
    (docs/warninglists.md): ``benign`` lists damp a value's score (x0.3), ``context`` lists
    are shown and change nothing. ``ACCORD_WARNINGLIST_CLASSES="List name=benign;Other
    name=context"`` (semicolon-separated, since list names hold commas); parsed by
    `parse_warninglist_classes`. A name this node's lists do not have is an error at start-up."""

    bulk_helper: bool = False
    """Answer large bulk look-ups on two cores (`accord.api.bulk`). `accord serve` turns it
    on (``--no-bulk-helper`` to not). Environment: ``ACCORD_BULK_HELPER``."""

    correlation_cap: int = 100
    """A value that joins more objects than this is over-correlating: its correlations are
    counted, not listed or stored (docs/correlation.md). ``ACCORD_CORRELATION_CAP``."""

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        env = os.environ
        return cls(
            database_url=database_url or env.get("ACCORD_DATABASE_URL") or DEFAULT_DATABASE_URL,
            default_tlp=Tlp.parse(env.get("ACCORD_DEFAULT_TLP", "amber")),
            public_lookups=env.get("ACCORD_PUBLIC_LOOKUPS", "0").lower() in ("1", "true", "yes"),
            rate_per_second=float(env.get("ACCORD_RATE_PER_SECOND", "100")),
            rate_burst=int(env.get("ACCORD_RATE_BURST", "400")),
            auth_failure_burst=int(env.get("ACCORD_AUTH_FAILURE_BURST", "10")),
            auth_failures_per_minute=float(env.get("ACCORD_AUTH_FAILURES_PER_MINUTE", "6")),
            anonymous_per_second=float(env.get("ACCORD_ANONYMOUS_PER_SECOND", "5")),
            anonymous_burst=int(env.get("ACCORD_ANONYMOUS_BURST", "50")),
            anonymous_node_per_second=float(env.get("ACCORD_ANONYMOUS_NODE_PER_SECOND", "50")),
            anonymous_node_burst=int(env.get("ACCORD_ANONYMOUS_NODE_BURST", "500")),
            anonymous_bulk_max=int(env.get("ACCORD_ANONYMOUS_BULK_MAX", "100")),
            trusted_proxies=_names(env.get("ACCORD_TRUSTED_PROXIES", "")),
            max_body_bytes=int(env.get("ACCORD_MAX_BODY_BYTES", str(128 * 1024 * 1024))),
            key_cache_seconds=float(env.get("ACCORD_KEY_CACHE_SECONDS", "5")),
            correlation_cap=int(env.get("ACCORD_CORRELATION_CAP", "100")),
            bulk_helper=env.get("ACCORD_BULK_HELPER", "0").lower() in ("1", "true", "yes"),
            warninglists=env.get("ACCORD_WARNINGLISTS", "1").lower() not in ("0", "false", "no"),
            warninglists_ignore=_names(env.get("ACCORD_WARNINGLISTS_IGNORE", "")),
            warninglist_classes=parse_warninglist_classes(
                env.get("ACCORD_WARNINGLIST_CLASSES", "")
            ),
        )


def _names(text: str) -> frozenset[str]:
    """A comma-separated list, as a set."""
    return frozenset(name.strip() for name in text.split(",") if name.strip())


def parse_warninglist_classes(text: str) -> tuple[tuple[str, WarninglistClass], ...]:
    """``"List name=benign;Other name=context"`` as (name, class) pairs, in order.

    Raises ValueError naming the part that is wrong: no ``=``, an empty name, a class that
    is neither ``benign`` nor ``context``, or a list named twice."""
    found: dict[str, WarninglistClass] = {}
    for number, part in enumerate(text.split(";"), start=1):
        if not part.strip():
            continue
        name, equals, given = part.rpartition("=")
        name, given = name.strip(), given.strip().lower()
        where = f"ACCORD_WARNINGLIST_CLASSES, part {number} ({part.strip()!r})"
        if not equals or not name:
            raise ValueError(f"{where}: write 'List name=benign' or 'List name=context'")
        if given not in ("benign", "context"):
            raise ValueError(f"{where}: the class must be 'benign' or 'context'")
        if name in found:
            raise ValueError(f"{where}: {name!r} is named twice")
        found[name] = "benign" if given == "benign" else "context"
    return tuple(found.items())
