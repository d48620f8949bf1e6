"""The TAXII 2.1 server as an ASGI application, mounted by the node at ``/taxii2/``.

It shares the node's store, settings and authenticator (HTTP Basic with the user's e-mail and
API key as password, or ``Authorization: Bearer <key>``; TAXII 2.1 section 1.6.9 leaves the
scheme to the server). Every answer, errors included, is ``application/taxii+json;version=2.1``
(section 1.6.8); errors are TAXII error messages (section 3.6).

Endpoints (one API root, ``accord``):

====================================================  ========  =========================
path under /taxii2                                    methods   TAXII 2.1 section
====================================================  ========  =========================
``/``                                                 GET       4.1 Server Discovery
``/accord/``                                          GET       4.2 API Root Information
``/accord/status/{id}/``                              GET       4.3 Get Status
``/accord/collections/``                              GET       5.1 Get Collections
``/accord/collections/{id}/``                         GET       5.2 Get a Collection
``/accord/collections/{id}/manifest/``                GET       5.3 Get Object Manifests
``/accord/collections/{id}/objects/``                 GET POST  5.4 Get / 5.5 Add Objects
``/accord/collections/{id}/objects/{oid}/``           GET DEL   5.6 Get / 5.7 Delete
``/accord/collections/{id}/objects/{oid}/versions/``  GET       5.8 Get Object Versions
====================================================  ========  =========================
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accord.settings import Settings
from accord.store.node import Store
from accord.taxii import discovery, objects
from accord.taxii.context import Authenticator, TaxiiNode
from accord.taxii.errors import TaxiiError, error_response

log = logging.getLogger("accord.taxii")


def _routes() -> list[Route]:
    root = "/{api_root}"
    collection = root + "/collections/{collection_id}"
    obj = collection + "/objects/{object_id}"
    return [
        Route("/", discovery.server_discovery, methods=["GET"]),
        Route(root + "/", discovery.api_root, methods=["GET"]),
        Route(root + "/status/{status_id}/", discovery.status, methods=["GET"]),
        # taxii2-client asks for the status URL without its final slash.
        Route(root + "/status/{status_id}", discovery.status, methods=["GET"]),
        Route(root + "/collections/", objects.list_collections, methods=["GET"]),
        Route(collection + "/", objects.get_collection, methods=["GET"]),
        Route(collection + "/manifest/", objects.get_manifest, methods=["GET"]),
        Route(collection + "/objects/", objects.get_objects, methods=["GET"]),
        Route(collection + "/objects/", objects.add_objects, methods=["POST"]),
        Route(obj + "/", objects.get_object, methods=["GET"]),
        Route(obj + "/", objects.delete_object, methods=["DELETE"]),
        Route(obj + "/versions/", objects.get_versions, methods=["GET"]),
    ]


async def _taxii_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TaxiiError)
    return error_response(exc.status, exc.description, exc.headers, exc.details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = sorted(
            {
                method
                for route in request.app.router.routes
                if isinstance(route, Route) and route.matches(request.scope)[0].value > 0
                for method in (route.methods or ())
            }
        )
        headers["Allow"] = ", ".join(allowed)
    description = "no such TAXII endpoint" if exc.status_code == 404 else str(exc.detail)
    return error_response(exc.status_code, description, headers)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "the server failed; the error was logged")


def create_taxii_app(store: Store, settings: Settings, authenticator: Authenticator) -> Starlette:
    """The TAXII application over the node's store, settings and authenticator."""
    app = Starlette(
        routes=_routes(),
        exception_handlers={
            TaxiiError: _taxii_error,
            HTTPException: _http_error,
            Exception: _crash,
        },
    )
    app.state.taxii = TaxiiNode(store, settings, authenticator)
    return app
