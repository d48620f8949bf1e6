"""Settings of a node and of one of its processes.

Most are read from the environment by the command line or the server: they tune one process
(rate limits, the database URL, the bulk helper). The settings that change the node's
*answers* (which warninglists it leaves out, the correlation cap, the default TLP) are not:
they live in the node's database (`accord.store.node_settings`, ``accord settings``), so that
the command line, every API worker, the bulk helper and TAXII answer alike (`NODE_SETTINGS`,
`Settings.with_node`). Their old environment variables are refused with a message saying so,
rather than silently ignored.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from accord.model.tlp import Tlp
from accord.store.node_settings import CORRELATION_CAP
from accord.store.replicas import ReplicaOptions

WarninglistClass = Literal["benign", "context"]

DEFAULT_DATABASE_URL = "sqlite:///var/accord.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the store: a SQLite file (default, under ./var/) or PostgreSQL
    (``postgresql://user@host/db``). Environment: ``ACCORD_DATABASE_URL``."""

    read_database_urls: tuple[str, ...] = ()
    """PostgreSQL streaming replicas of the store that the server's look-ups, object
    searches and TAXII listings read from, in turn; every write (the audit log included)
    goes to ``database_url`` (docs/replicas.md). Environment: ``ACCORD_READ_DATABASE_URL``,
    one URL or several separated by commas."""

    read_max_lag_seconds: float = 10.0
    """A replica further behind the primary than this is skipped until it catches up
    (its reads go to the primary meanwhile). ``ACCORD_READ_MAX_LAG_SECONDS``."""

    read_check_seconds: float = 2.0
    """How often each server process checks its replicas' health and lag (between checks,
    a read that fails on a replica also takes it out). ``ACCORD_READ_CHECK_SECONDS``."""

    default_tlp: Tlp = Tlp.AMBER
    """TLP for objects that arrive with no TLP marking and no ``--tlp``. TLP 2.0 leaves the
    default to the community; AMBER errs on the side of not sharing. Node setting
    ``tlp.default``."""

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

    stream_heartbeat_seconds: float = 15.0
    """The live stream (``GET /api/v1/stream``, docs/stream.md) sends a comment line after
    this long without an event, so that proxies and load balancers keep the connection
    open. ``ACCORD_STREAM_HEARTBEAT_SECONDS``."""

    stream_poll_seconds: float = 1.0
    """How often an open stream asks the store for what was added after its position: the
    longest an event waits before it is sent. ``ACCORD_STREAM_POLL_SECONDS``."""

    stream_max_per_key: int = 4
    """Streams one API key may hold open at once, per worker process; one more is 429.
    ``ACCORD_STREAM_MAX_PER_KEY``."""

    web_session_idle_minutes: float = 30.0
    """A portal session that has not been used for this long ends (the user signs in
    again). ``ACCORD_WEB_SESSION_IDLE_MINUTES``."""

    web_session_hours: float = 12.0
    """A portal session ends this long after sign-in, however active.
    ``ACCORD_WEB_SESSION_HOURS``."""

    web_upload_bytes: int = 20 * 1024 * 1024
    """Largest file (or pasted text) the portal's ingest page takes; larger ones are refused
    with a message (the API takes up to ``max_body_bytes``). ``ACCORD_WEB_UPLOAD_BYTES``."""

    signin_failure_burst: int = 5
    """Failed portal sign-ins (a wrong password or TOTP code) allowed in a row, per account
    and per client address, before the sign-in form refuses that account or address for a
    while (a message says how long). ``ACCORD_SIGNIN_FAILURE_BURST``."""

    signin_failures_per_minute: float = 0.5
    """How fast that allowance recovers, per account and per address.
    ``ACCORD_SIGNIN_FAILURES_PER_MINUTE``."""

    warninglists: bool = True
    """Check look-ups against the MISP warninglists (compiled once into a cache under
    ``var/cache``, or ``ACCORD_CACHE_DIR``). ``ACCORD_WARNINGLISTS=0`` turns it off."""

    warninglists_ignore: frozenset[str] = frozenset()
    """Names of warninglists this node does not use, e.g. the documentation ranges on a demo
    node whose made-up data lives there. Node setting ``warninglists.ignore``
    (comma-separated)."""

    warninglist_classes: tuple[tuple[str, WarninglistClass], ...] = ()
    """This node's own class for some warninglists, over the reviewed table
    (docs/warninglists.md): ``benign`` lists damp a value's score (x0.3), ``context`` lists
    are shown and change nothing. Node setting ``warninglists.classes``: ``"List
    name=benign;Other name=context"`` (semicolon-separated, since list names hold commas);
    parsed by `parse_warninglist_classes`. A name this node's lists do not have is an error
    at start-up."""

    bulk_helper: bool = False
    """Answer large bulk look-ups on two cores (`accord.api.lookup_workers`). `accord serve`
    turns it on (``--no-bulk-helper`` to not). Environment: ``ACCORD_BULK_HELPER``."""

    correlation_cap: int = 100
    """A value that joins more objects than this is over-correlating: its correlations are
    counted, not listed or stored (docs/correlation.md). Node setting ``correlation.cap``
    (the store reads it itself, `accord.store.correlation.policy.policy_for`)."""

    webhook_allow_private: bool = False
    """Whether webhooks may be delivered to loopback, private and link-local addresses
    (docs/webhooks.md). Off: a webhook's host must resolve to public addresses only, so that
    an org-admin cannot make the node reach inside its own network.
    ``ACCORD_WEBHOOK_ALLOW_PRIVATE=1``."""

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        """A process's settings from the environment. The node settings keep their defaults
        here: `with_node` applies the ones stored in the node."""
        env = os.environ
        for name, setting in NODE_SETTINGS.items():
            if setting.env in env:
                raise ValueError(
                    f"{setting.env} is no longer read: {name} is a setting of the node, kept "
                    f"in its database so that the command line and the server answer alike; "
                    f"unset {setting.env} and run `accord settings set {name} VALUE`"
                )
        return cls(
            database_url=database_url or env.get("ACCORD_DATABASE_URL") or DEFAULT_DATABASE_URL,
            read_database_urls=tuple(
                url.strip()
                for url in env.get("ACCORD_READ_DATABASE_URL", "").split(",")
                if url.strip()
            ),
            read_max_lag_seconds=float(env.get("ACCORD_READ_MAX_LAG_SECONDS", "10")),
            read_check_seconds=float(env.get("ACCORD_READ_CHECK_SECONDS", "2")),
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
            stream_heartbeat_seconds=float(env.get("ACCORD_STREAM_HEARTBEAT_SECONDS", "15")),
            stream_poll_seconds=float(env.get("ACCORD_STREAM_POLL_SECONDS", "1")),
            stream_max_per_key=int(env.get("ACCORD_STREAM_MAX_PER_KEY", "4")),
            bulk_helper=env.get("ACCORD_BULK_HELPER", "0").lower() in ("1", "true", "yes"),
            web_session_idle_minutes=float(env.get("ACCORD_WEB_SESSION_IDLE_MINUTES", "30")),
            web_session_hours=float(env.get("ACCORD_WEB_SESSION_HOURS", "12")),
            web_upload_bytes=int(env.get("ACCORD_WEB_UPLOAD_BYTES", str(20 * 1024 * 1024))),
            signin_failure_burst=int(env.get("ACCORD_SIGNIN_FAILURE_BURST", "5")),
            signin_failures_per_minute=float(env.get("ACCORD_SIGNIN_FAILURES_PER_MINUTE", "0.5")),
            warninglists=env.get("ACCORD_WARNINGLISTS", "1").lower() not in ("0", "false", "no"),
            webhook_allow_private=env.get("ACCORD_WEBHOOK_ALLOW_PRIVATE", "0").lower()
            in ("1", "true", "yes"),
        )

    def replicas(self) -> ReplicaOptions:
        """The read replicas to open (`accord.store.node.Store.open`)."""
        return ReplicaOptions(
            self.read_database_urls, self.read_max_lag_seconds, self.read_check_seconds
        )

    def with_node(self, stored: Mapping[str, str]) -> Settings:
        """These settings with the node's stored settings (`NodeSettings.all`) applied."""
        changes: dict[str, Any] = {
            setting.field: setting.parse(stored[name])
            for name, setting in NODE_SETTINGS.items()
            if name in stored
        }
        return dataclasses.replace(self, **changes) if changes else self


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
        where = f"part {number} ({part.strip()!r})"
        if not equals or not name:
            raise ValueError(f"{where}: write 'List name=benign' or 'List name=context'")
        if given not in ("benign", "context"):
            raise ValueError(f"{where}: the class must be 'benign' or 'context'")
        if name in found:
            raise ValueError(f"{where}: {name!r} is named twice")
        found[name] = "benign" if given == "benign" else "context"
    return tuple(found.items())


def _cap(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{value} is too small: the cap is at least 1")
    return value


def _tlp(text: str) -> Tlp:
    return Tlp.parse(text)


@dataclass(frozen=True, slots=True)
class NodeSetting:
    """A setting of the node that changes its answers (kept in its database)."""

    field: str  # the Settings field it sets
    parse: Callable[[str], object]  # text to value; ValueError says what is wrong
    show: Callable[[object], str]  # value to text, as stored and shown
    env: str  # the environment variable it replaced (refused now)
    help: str


def _shown_names(value: object) -> str:
    assert isinstance(value, frozenset)
    return ",".join(sorted(value))


def _shown_classes(value: object) -> str:
    assert isinstance(value, tuple)
    return ";".join(f"{name}={kind}" for name, kind in value)


def _shown_tlp(value: object) -> str:
    assert isinstance(value, Tlp)
    return value.label


NODE_SETTINGS: Mapping[str, NodeSetting] = {
    "warninglists.ignore": NodeSetting(
        "warninglists_ignore",
        _names,
        _shown_names,
        "ACCORD_WARNINGLISTS_IGNORE",
        "MISP warninglists this node does not use, by name, comma-separated "
        "(empty: it uses them all)",
    ),
    CORRELATION_CAP: NodeSetting(
        "correlation_cap",
        _cap,
        str,
        "ACCORD_CORRELATION_CAP",
        "a value joining more objects than this is over-correlating (docs/correlation.md)",
    ),
    "warninglists.classes": NodeSetting(
        "warninglist_classes",
        parse_warninglist_classes,
        _shown_classes,
        "ACCORD_WARNINGLIST_CLASSES",
        "this node's own class for some warninglists: 'List name=benign;Other=context' "
        "(benign lists damp a score x0.3, context lists only explain; docs/warninglists.md)",
    ),
    "tlp.default": NodeSetting(
        "default_tlp",
        _tlp,
        _shown_tlp,
        "ACCORD_DEFAULT_TLP",
        "TLP given to objects that arrive with no TLP marking and no --tlp",
    ),
}


def node_setting_text(name: str, text: str) -> str:
    """The text to store for node setting ``name`` given as ``text``: checked, normalised;
    ValueError naming the setting when either is wrong."""
    setting = NODE_SETTINGS.get(name)
    if setting is None:
        known = ", ".join(NODE_SETTINGS)
        raise ValueError(f"{name!r} is not a node setting (known: {known})")
    try:
        return setting.show(setting.parse(text))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
