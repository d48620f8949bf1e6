"""What every page handler shares: the store, the settings, the look-up service, the pages'
templates and static files, and the sign-in limits. One per application
(``app.state.portal``), built by `accord.api.app.create_app`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from starlette.requests import Request

from accord.intel.lookup.service import LookupService
from accord.ratelimit import RateLimiter, client_address
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.node import Store
from accord.web.rendering import Pages
from accord.web.static_files import StaticAssets


class RecentVisitors:
    """Sessions this worker checked a moment ago (``Settings.key_cache_seconds``, as the API
    remembers checked keys): a page then costs no session query. Signing out, a password
    change and a revocation made in this worker forget at once; one made elsewhere (another
    worker, the command line) takes effect within that time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._found: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Any:
        with self._lock:
            found = self._found.get(token)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, token: str, visitor: Any) -> None:
        with self._lock:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[token] = (time.monotonic() + self.seconds, visitor)

    def forget(self) -> None:
        with self._lock:
            self._found.clear()


@dataclass
class Portal:
    store: Store
    settings: Settings
    lookups: LookupService
    # Drops the API's remembered keys (`accord.api.auth.Authenticator.forget`), so that a key
    # revoked in the portal stops opening the API at once in this worker, as one revoked
    # over the API does. The API wires it; the portal does not import the API.
    forget_keys: Callable[[], None] = lambda: None
    assets: StaticAssets = field(default_factory=StaticAssets.packaged)
    pages: Pages = field(init=False)
    signin_failures: RateLimiter = field(init=False)
    recent_visitors: RecentVisitors = field(init=False)

    def __post_init__(self) -> None:
        self.pages = Pages(self.assets)
        self.recent_visitors = RecentVisitors(self.settings.key_cache_seconds)
        self.signin_failures = RateLimiter(
            self.settings.signin_failures_per_minute / 60.0, self.settings.signin_failure_burst
        )

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.settings.web_session_idle_minutes)

    @property
    def lifetime(self) -> timedelta:
        return timedelta(hours=self.settings.web_session_hours)

    def address(self, request: Request) -> str:
        """The client address the sign-in limits count (as the API's limits do)."""
        return client_address(
            request.scope.get("client"),
            request.headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )

    def audit(
        self,
        user_id: str | None,
        org_id: str | None,
        action: str,
        target: str | None,
        **detail: object,
    ) -> None:
        self.store.audit.append(
            Event(action=action, user_id=user_id, org_id=org_id, target=target, detail=dict(detail))
        )


def portal_of(request: Request) -> Portal:
    portal = request.app.state.portal
    assert isinstance(portal, Portal)
    return portal
