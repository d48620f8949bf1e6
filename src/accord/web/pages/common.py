"""What page handlers share: rendering a page for a visitor (language, time zone, CSRF token,
the navigation) and telling an htmx request from a full page load."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from accord.intel.audit_view import READERS as AUDITORS
from accord.model.roles import Role
from accord.web.portal import portal_of
from accord.web.visitors import LANGUAGE_COOKIE, Visitor, language_of, set_cookie

ADMINS = (Role.ADMIN, Role.ORG_ADMIN)


def is_htmx(request: Request) -> bool:
    """An htmx request that wants a fragment (not a boosted full page)."""
    return request.headers.get("hx-request") == "true" and "hx-boosted" not in request.headers


def page(
    request: Request,
    visitor: Visitor | None,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render ``template`` for ``visitor`` (None on the sign-in pages)."""
    portal = portal_of(request)
    language = language_of(request, visitor)
    values: dict[str, Any] = {
        "visitor": visitor,
        "user": visitor.account.user if visitor else None,
        "csrf": visitor.session.csrf if visitor and not visitor.second_factor_due else "",
        "time_zone": visitor.account.time_zone if visitor else None,
        "path": request.url.path,
        "is_admin": bool(visitor and visitor.may(*ADMINS)),
        "is_auditor": bool(visitor and visitor.may(*AUDITORS)),
        "may_ingest": bool(visitor and visitor.role.may_ingest),
        "node_name": "Accord",
    }
    values.update(context or {})
    response = portal.pages.render(language, template, values, status)
    if request.query_params.get("lang") == language:
        set_cookie(request, response, LANGUAGE_COOKIE, language, max_age=365 * 86400)
    return response
