"""Who is reading a page: the signed-in session behind the cookie, the person's language and
time zone, and the checks every page makes (signed in, second factor passed, role, CSRF).

The cookie holds the session's random token (`accord.store.web_sessions`): ``HttpOnly`` (no
script reads it), ``SameSite=Strict`` (no other site's page sends it), ``Secure`` and named
``__Host-`` when the portal is served over TLS. Every state-changing request (a form post or
an htmx request) carries the session's CSRF token, as a form field ``csrf`` or the header
``X-CSRF-Token``, and, when the browser sends an ``Origin``, comes from this node's origin.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from accord.model.roles import Role
from accord.model.visibility import Viewer
from accord.store.credentials import Account
from accord.store.web_sessions import WebSession
from accord.web import i18n
from accord.web.portal import Portal, portal_of

LANGUAGE_COOKIE = "accord_lang"
SIGNIN_COOKIE = "accord_signin"  # the sign-in form's own CSRF token (no session yet)


class Redirect(Exception):
    """Answer with a redirect (303 for a form post, or HX-Redirect for htmx)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class PageError(Exception):
    """Answer with the error page: ``status`` and a message for the reader (translated)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in person reading the portal."""

    session: WebSession
    account: Account
    viewer: Viewer
    token: str

    @property
    def user_id(self) -> str:
        return self.account.user.id

    @property
    def org_id(self) -> str:
        return self.account.user.org_id

    @property
    def role(self) -> Role:
        return self.account.user.role

    @property
    def second_factor_due(self) -> bool:
        """Signed in with the password, the TOTP code still to give (or to set up)."""
        needed = self.account.totp_enabled or self.account.totp_required
        return needed and not self.session.second_factor

    def may(self, *roles: Role) -> bool:
        return self.role in roles


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def session_cookie(request: Request) -> str:
    """``__Host-`` over TLS: the browser then refuses it without Secure or for a sub-path."""
    return "__Host-accord_session" if secure(request) else "accord_session"


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


def _resolve(portal: Portal, token: str) -> Visitor | None:
    session = portal.store.web_sessions.get(token, portal.idle)
    if session is None:
        return None
    account = portal.store.credentials.account(session.user.id)
    if account is None:
        return None
    return Visitor(session, account, portal.store.directory.viewer(account.user), token)


async def visitor_or_none(request: Request) -> Visitor | None:
    """The signed-in person, or None (no cookie, an ended or revoked session)."""
    token = request.cookies.get(session_cookie(request))
    if not token:
        return None
    portal = portal_of(request)
    found: Visitor | None = portal.recent_visitors.get(token)
    if found is None:
        found = await run_in_threadpool(_resolve, portal, token)
        if found is not None:
            portal.recent_visitors.put(token, found)
    return found


async def member(request: Request) -> Visitor:
    """The signed-in person with the sign-in finished; else off to the sign-in page."""
    found = await visitor_or_none(request)
    if found is None:
        raise Redirect("/sign-in?next=" + quote(_here(request), safe=""))
    if found.second_factor_due:
        raise Redirect("/sign-in/totp" if found.account.totp_enabled else "/account/totp")
    return found


def require(visitor: Visitor, *roles: Role) -> None:
    """A page for some roles: others get the same answer as for a page that is not there."""
    if not visitor.may(*roles):
        raise PageError(404, "not-found")


def _here(request: Request) -> str:
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this node only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def language_of(request: Request, visitor: Visitor | None) -> str:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES:
        return str(asked)
    return i18n.choose(
        visitor.account.locale if visitor else None,
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )


def same_origin(request: Request) -> bool:
    """A browser's ``Origin`` (sent with every POST by current browsers) names this node."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def posted(request: Request, visitor: Visitor) -> FormData:
    """The form of a state-changing request, after the CSRF checks."""
    form = await request.form()
    sent = request.headers.get("x-csrf-token") or str(form.get("csrf") or "")
    if not same_origin(request) or not hmac.compare_digest(
        sent.encode(), visitor.session.csrf.encode()
    ):
        raise PageError(403, "csrf")
    return form


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)
