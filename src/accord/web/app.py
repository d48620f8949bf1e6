"""The portal on the node's application: its pages at ``/``, its static files at
``/static/``, and its error pages. `accord.api.app.create_app` calls :func:`install`."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from accord.web.pages import (
    account,
    admin_accounts,
    admin_node,
    admin_peers,
    audit_log,
    dashboard,
    ingest,
    ingest_files,
    lookup,
    objects,
    search,
)
from accord.web.pages.common import is_htmx, page
from accord.web.portal import Portal
from accord.web.visitors import PageError, Redirect

# Paths that belong to the API side: their errors stay problem documents (or TAXII errors).
NOT_PORTAL = ("/api/", "/taxii2", "/misp-feed", "/health", "/static/")


def is_portal_path(path: str) -> bool:
    return not path.startswith(NOT_PORTAL) and path != "/api"


def install(app: FastAPI, portal: Portal) -> None:
    app.state.portal = portal
    for module in (
        account,
        lookup,
        objects,
        search,
        ingest,
        ingest_files,
        dashboard,
        admin_accounts,
        admin_node,
        admin_peers,
        audit_log,
    ):
        app.include_router(module.router)
    app.router.routes.append(portal.assets.route())

    app.add_middleware(ForgetAfterChanges, portal=portal)

    @app.exception_handler(Redirect)
    async def _redirect(request: Request, exc: Redirect) -> Response:
        if is_htmx(request):  # htmx follows this header with a full page load
            return Response(status_code=204, headers={"HX-Redirect": exc.location})
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return error_page(request, exc.status, exc.message)


class ForgetAfterChanges:
    """ASGI middleware: a form post to the portal may change a session or an account (signing
    out, a password, a role), so this worker's remembered sessions are dropped once it is
    answered (`accord.web.portal.RecentVisitors`). Plain ASGI: it costs other requests one
    comparison."""

    def __init__(self, app: ASGIApp, portal: Portal) -> None:
        self.app = app
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if (
            scope["type"] == "http"
            and scope["method"] not in ("GET", "HEAD")
            and is_portal_path(scope["path"])
        ):
            self.portal.recent_visitors.forget()


def error_page(request: Request, status: int, code: str | None = None) -> Response:
    """The portal's answer for an error: a page in the reader's language that says what
    happened and what to do. A page that is not there and one the reader may not see answer
    the same (404, same words)."""
    known = {
        400: "bad-request",
        403: "forbidden",
        404: "not-found",
        405: "not-found",
        413: "too-large",
        422: "bad-form",
        429: "too-many",
        500: "crash",
    }
    template = "error_card.html" if is_htmx(request) else "error.html"
    return page(
        request,
        None,
        template,
        {"code": code or known.get(status, "crash"), "status": status},
        status,
    )
