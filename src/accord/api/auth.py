"""Who is calling: ``Authorization: Bearer <key>`` (or, for TAXII clients, HTTP Basic with the
user's e-mail and the key as password; for MISP feed clients the key alone), checked against
the hashed keys in the store.

A worker remembers a checked key for a few seconds (``Settings.key_cache_seconds``) so that a
look-up costs one query, not three; revocation takes effect within that time.

Limits (each a token bucket per worker, `accord.ratelimit.RateLimiter`; 429 with
``Retry-After``):

- each key: ``Settings.rate_per_second`` and ``rate_burst``;
- failed authentications, per client address and per claimed account (the key id of a
  Bearer key ``acc_<id>_<secret>``, or the Basic user name): after
  ``Settings.auth_failure_burst`` failures, a key this worker has not already checked is
  refused from that address, or for that account, before it is looked at, until the
  allowance recovers (``auth_failures_per_minute``). A key already checked (in the cache) is
  the exact key, so it is let through: the limit slows guessing, not the key's holder;
- anonymous look-ups, per client address and for the whole node, before anything is looked
  up or audited (so a flood cannot grow the audit log faster than the node-wide rate).

The client address is the connection's peer (``X-Forwarded-For`` only from a trusted proxy,
``Settings.trusted_proxies``).
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from dataclasses import dataclass

from fastapi import Request

from accord.api.limits import retry_after
from accord.api.problems import Problem
from accord.model.roles import Role
from accord.model.visibility import Viewer
from accord.ratelimit import RateLimiter, client_address
from accord.settings import Settings
from accord.store.node import Store
from accord.store.organisations import User


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user (or an anonymous caller where the node allows it)."""

    user: User | None
    viewer: Viewer
    key_id: str | None

    @property
    def anonymous(self) -> bool:
        return self.user is None

    def require(self, *roles: Role) -> User:
        """The user, if their role is one of ``roles``; else 403."""
        if self.user is None:
            raise Problem(401, "this needs an API key: send Authorization: Bearer <key>")
        if roles and self.user.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise Problem(403, f"{self.user.role.with_article} may not do this (needs: {allowed})")
        return self.user


class Authenticator:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
        self.failures = RateLimiter(
            settings.auth_failures_per_minute / 60.0, settings.auth_failure_burst
        )
        self.anonymous = RateLimiter(settings.anonymous_per_second, settings.anonymous_burst)
        self.anonymous_node = RateLimiter(
            settings.anonymous_node_per_second, settings.anonymous_node_burst
        )
        self._cache: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Caller:
        return self.caller(request, anonymous_ok=False)

    def caller(self, request: Request, anonymous_ok: bool, bare_key_ok: bool = False) -> Caller:
        """The caller of ``request``, from its Authorization header and client address.
        ``bare_key_ok``: a header that is the key alone (``Authorization: <key>``, as MISP's
        feed settings send it) is taken as ``Bearer <key>``."""
        header = request.headers.get("authorization")
        if bare_key_ok and header and len(header.split()) == 1:
            header = "Bearer " + header.strip()
        return self.authenticate(header, anonymous_ok, self.address(request))

    def address(self, request: Request) -> str:
        """The client address the limits count (`accord.ratelimit.client_address`)."""
        client = request.scope.get("client")
        if not self.settings.trusted_proxies:
            return client[0] if client else "-"
        return client_address(
            client, request.headers.get("x-forwarded-for"), self.settings.trusted_proxies
        )

    def authenticate(self, header: str | None, anonymous_ok: bool, address: str = "-") -> Caller:
        if not header:
            if anonymous_ok and self.settings.public_lookups:
                wait = max(self.anonymous.take(address), self.anonymous_node.take(""))
                if wait > 0:
                    raise Problem(
                        429,
                        f"too many anonymous look-ups; try again in {wait:.1f} s "
                        "(or use an API key)",
                        headers=retry_after(wait),
                    )
                return Caller(None, Viewer.anonymous(), None)
            raise Problem(
                401,
                "this needs an API key: send Authorization: Bearer <key>",
                headers={"WWW-Authenticate": 'Bearer realm="accord"'},
            )
        try:
            key, claimed = _key_from_header(header)
        except Problem:
            self._refuse_if_failing(address, None)
            self.failures.take("@" + address)
            raise
        caller = self._cached(key)
        if (
            caller is not None
            and claimed is not None
            and caller.user
            and claimed.strip().lower() != caller.user.email
        ):
            caller = None
        if caller is None:
            account = _claimed_account(key, claimed)
            self._refuse_if_failing(address, account)
            user = self.store.directory.user_for_key(key)
            if user is None or (claimed is not None and claimed.strip().lower() != user.email):
                self.failures.take("@" + address)
                self.failures.take("=" + account)
                raise Problem(
                    401,
                    "the API key is not valid (unknown, revoked or mistyped)",
                    headers={"WWW-Authenticate": 'Bearer realm="accord", error="invalid_token"'},
                )
            caller = Caller(user, self.store.directory.viewer(user), key.split("_")[1])
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (time.monotonic() + self.settings.key_cache_seconds, caller)
        assert caller.key_id is not None
        wait = self.limiter.take(caller.key_id)
        if wait > 0:
            raise Problem(
                429,
                f"too many requests for this key; try again in {wait:.1f} s",
                headers=retry_after(wait),
            )
        return caller

    def recheck(self, header: str) -> Caller | None:
        """The caller ``header`` names now, asked of the store (not the cache, and counted
        by no limit), or None where its key no longer opens anything (revoked, its user
        disabled). For a request that outlives the cache, the live stream: it asks again
        every ``Settings.key_cache_seconds``, so a revocation ends it within that time as
        it stops any other request, and a change of groups applies to what it sends."""
        try:
            key, claimed = _key_from_header(header)
        except Problem:
            return None
        user = self.store.directory.user_for_key(key)
        if user is None or (claimed is not None and claimed.strip().lower() != user.email):
            return None
        return Caller(user, self.store.directory.viewer(user), key.split("_")[1])

    def _refuse_if_failing(self, address: str, account: str | None) -> None:
        """429 if this address, or this claimed account, has used up its failed
        authentications: before the key is looked at."""
        wait = self.failures.wait("@" + address)
        if account is not None:
            wait = max(wait, self.failures.wait("=" + account))
        if wait > 0:
            raise Problem(
                429,
                f"too many failed authentications; try again in {wait:.0f} s",
                headers=retry_after(wait),
            )

    def _cached(self, key: str) -> Caller | None:
        with self._lock:
            found = self._cache.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def forget(self) -> None:
        """Drop every remembered key (after a revocation in this worker)."""
        with self._lock:
            self._cache.clear()


def _claimed_account(key: str, claimed: str | None) -> str:
    """The account a failed authentication counts against: the Basic user name, else the
    key id of ``acc_<id>_<secret>`` (a key of another shape: all such keys together)."""
    if claimed is not None:
        return "user:" + claimed.strip().lower()
    parts = key.split("_", 2)
    return "key:" + (parts[1] if len(parts) == 3 else "")


def _key_from_header(header: str) -> tuple[str, str | None]:
    """The key, and for Basic the e-mail address it claims to belong to."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if "\x00" in value:
        raise Problem(401, "the API key is not valid (unknown, revoked or mistyped)")
    if scheme.lower() == "bearer" and value:
        return value, None
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Problem(401, "malformed Basic credentials") from None
        email, _, password = decoded.partition(":")
        if not email.strip() or not password or "\x00" in decoded:
            # An empty user name would skip the check that the key is the claimed user's.
            raise Problem(401, "Basic credentials need the e-mail address and the key")
        return password, email
    raise Problem(401, "use Authorization: Bearer <key> (or Basic with the key as password)")
