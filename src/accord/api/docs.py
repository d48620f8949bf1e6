"""The interactive API documentation at /api/docs, which works offline, and the security
schemes of the OpenAPI document that give it its "Authorize" button.

- The page loads the vendored Swagger UI (`accord.web.static_files`, served under /static with
  hashed names) instead of FastAPI's page, which loads it from a CDN and so is blank without
  internet. Its start-up script is a static file too (``web/static/api-docs/swagger-init.js``):
  the page carries no inline script, and its Content-Security-Policy allows none.
- The document declares the two ways `accord.api.auth` takes a key: HTTP bearer
  (``Authorization: Bearer acc_...``) and HTTP basic (the user's e-mail address and the key as
  the password, as TAXII clients send it). Every operation needs one of them, except those
  whose route admits anonymous callers (`accord.api.context.caller_or_anonymous`, the
  look-ups, where the node allows public look-ups) and those that authenticate no one
  (``/health``). This is read from each route's dependencies, so a new route is documented as
  it behaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from html import escape
from typing import Any, Final

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import HTMLResponse

from accord.api.context import caller_of, caller_or_anonymous
from accord.web.static_files import StaticAssets

BEARER: Final = "bearer"
BASIC: Final = "basic"
SECURITY_SCHEMES: Final = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "acc_<id>_<secret>",
        "description": "An API key (`accord key add EMAIL`): `Authorization: Bearer acc_...`.",
    },
    BASIC: {
        "type": "http",
        "scheme": "basic",
        "description": (
            "For TAXII clients that only speak Basic: the user's e-mail address as user name "
            "and an API key as the password."
        ),
    },
}
KEY_NEEDED: Final[list[dict[str, list[str]]]] = [{BEARER: []}, {BASIC: []}]
# The empty requirement: no credentials at all (OpenAPI 3.1, 4.8.30).
KEY_OR_NONE: Final = [*KEY_NEEDED, {}]

# The page's own script and Swagger UI's are files under /static; its styles set inline style
# attributes, and the schema's icons are data: images.
_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def install(app: FastAPI, docs_url: str, assets: StaticAssets, public_lookups: bool) -> None:
    """Serve the documentation page at ``docs_url`` (its files from ``assets``, whose route
    the caller mounts), and add the security schemes to the application's OpenAPI document."""
    page = docs_page(assets, app.openapi_url or "", app.title)

    async def docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": _POLICY})

    app.add_route(docs_url, docs, methods=["GET"], include_in_schema=False)
    app.openapi = _secured_openapi(app, public_lookups)  # type: ignore[method-assign]


def docs_page(assets: StaticAssets, openapi_url: str, title: str) -> str:
    css = assets.url("vendor/swagger-ui-dist/swagger-ui.css")
    bundle = assets.url("vendor/swagger-ui-dist/swagger-ui-bundle.js")
    start = assets.url("api-docs/swagger-init.js")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{escape(css)}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{escape(bundle)}"></script>
<script src="{escape(start)}"></script>
</body>
</html>
"""


def _secured_openapi(app: FastAPI, public_lookups: bool) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` with the security schemes and each operation's requirement, added to
    the document FastAPI made (and keeps until the routes change) once per document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        components = schema.setdefault("components", {})
        if "securitySchemes" not in components:
            components["securitySchemes"] = SECURITY_SCHEMES
            schema["security"] = KEY_NEEDED
            _mark_operations(app, schema.get("paths", {}), public_lookups)
        return schema

    return openapi


def _mark_operations(app: FastAPI, paths: dict[str, Any], public_lookups: bool) -> None:
    """Each operation whose route does not need a key says so; the rest keep the default."""
    for route in _documented_routes(app):
        calls = set(_calls(route.dependant))
        if caller_of in calls:
            continue  # the document's default
        if caller_or_anonymous in calls:
            security = KEY_OR_NONE if public_lookups else KEY_NEEDED
        else:
            security = []
        operations = paths.get(route.path_format, {})
        for method in route.methods or ():
            if method.lower() in operations:
                operations[method.lower()]["security"] = security


def _documented_routes(app: FastAPI) -> Iterator[Any]:
    """The routes in the document, each with ``dependant``, ``path_format`` (its full path)
    and ``methods``. FastAPI from 0.16x keeps an included router whole and walks it with
    ``iter_route_contexts``; before, ``include_router`` copied its routes into ``app.routes``."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Iterable[Any] = walk(app.routes) if walk is not None else app.routes
    for route in routes:
        documented = isinstance(getattr(route, "original_route", route), APIRoute)
        if documented and route.include_in_schema:
            yield route


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)
