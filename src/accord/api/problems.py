"""Errors as RFC 9457 problem details (``application/problem+json``), with a JSON pointer to
the offending field where there is one. No stack trace ever reaches a caller."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from accord.api.responses import JSONResponse
from accord.model.jsondoc import JsonDocumentError, JsonLimitError, loads

log = logging.getLogger("accord.api")

PROBLEM = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
}


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(
    status: int,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


def pointer(location: tuple[Any, ...] | list[Any]) -> str:
    """A JSON pointer (RFC 6901) for a FastAPI error location such as ("body", "values", 3)."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in location]
    return "/" + "/".join(parts)


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """The methods some route takes at this path. Asked of the routes method by method:
    FastAPI's included routers do not expose their routes' methods."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in app.router.routes
        )
    ]


HtmlErrors = Callable[[Request, int], Response | None]


def install(app: FastAPI, html: HtmlErrors | None = None) -> None:
    """Problem documents for every error; ``html`` answers instead where it answers (the
    portal's pages, `accord.web.app.error_page`)."""

    def _page(request: Request, status: int) -> Response | None:
        return html(request, status) if html is not None else None

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.detail, request.url.path, exc.errors, exc.headers, exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if (shown := _page(request, 422)) is not None:
            return shown
        errors = [
            {"pointer": pointer(error.get("loc", ())), "detail": str(error.get("msg", ""))}
            for error in exc.errors()
        ]
        first = errors[0] if errors else {"pointer": "/", "detail": "invalid"}
        detail = f"{first['pointer']}: {first['detail']}"
        return problem_response(422, detail, request.url.path, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if (shown := _page(request, exc.status_code)) is not None:
            return shown
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            # Starlette names only the methods of the first route with this path.
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return problem_response(exc.status_code, str(exc.detail), request.url.path, None, headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if (shown := _page(request, 500)) is not None:
            return shown
        return problem_response(500, "the server failed; the error was logged", request.url.path)


def invalid(pointer: str, detail: str, **extra: Any) -> Problem:
    """422, naming where in the body (an RFC 6901 pointer) and what is wrong there."""
    error: dict[str, Any] = {"pointer": pointer, "detail": detail, **extra}
    return Problem(422, f"{pointer}: {detail}", [error])


def json_object(body: bytes, shape: str = "") -> dict[str, Any]:
    """The body read as one JSON object (`accord.model.jsondoc.loads`: nesting and repeated
    keys refused): 400 when it is not JSON or not accepted, 422 when it is not an object
    (``shape`` shows the caller what one looks like)."""
    try:
        document = loads(body)
    except JsonLimitError as exc:
        raise Problem(400, f"the body is not accepted: {exc}") from None
    except JsonDocumentError as exc:
        detail = f"the body is not JSON: {exc}"
        raise Problem(400, detail, [{"pointer": "/", "detail": str(exc)}]) from None
    if not isinstance(document, dict):
        raise invalid("/", "the body must be a JSON object" + (f": {shape}" if shape else ""))
    return document
