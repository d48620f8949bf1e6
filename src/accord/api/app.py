"""The node's ASGI application: REST under /api/v1, OpenAPI at /api/v1/openapi.json,
interactive docs at /api/docs (offline: `accord.api.docs`), the portal's static files under
/static. ``accord serve`` runs it under uvicorn."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.responses import Response

import accord
from accord.api import docs, lookup_workers, problems
from accord.api.auth import Authenticator
from accord.api.context import Node
from accord.api.limits import TAXII_PREFIX, BodyLimit, NulGuard
from accord.api.lookup_workers import BulkHelper
from accord.api.responses import JSONResponse
from accord.api.routes import (
    accounts,
    admin,
    audit,
    correlations,
    exports,
    health,
    lookup,
    match,
    misp_feed,
    node_card,
    objects,
    patterns,
    peers,
    sightings,
    stream,
    webhooks,
)
from accord.intel.benign import BenignLists
from accord.intel.lookup.service import LookupService
from accord.jobs.runner import start_background
from accord.settings import Settings
from accord.store.node import Store
from accord.taxii.app import create_taxii_app
from accord.web import app as portal_app
from accord.web.portal import Portal

API = "/api/v1"


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    lists: BenignLists | None = None,
) -> FastAPI:
    """Build the application. Without arguments (as uvicorn's factory) it reads the settings
    from the environment and opens the store they name. The node's stored settings
    (`accord.settings.NODE_SETTINGS`) apply over ``settings``: they are read when the
    application is built (a running server takes a change when it restarts)."""
    settings = settings or Settings.from_env()
    owned = store is None
    node_store = store or Store.open(settings.database_url, settings.replicas())
    # The settings that change answers are the node's, as the command line reads them; the
    # workers, the bulk helper and TAXII all get these (`accord settings`).
    settings = settings.with_node(node_store.settings.all())
    lookups = (
        LookupService(node_store, lists)
        if lists is not None
        else LookupService.load(node_store, settings)
    )
    node = Node(node_store, settings, Authenticator(node_store, settings), lookups)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        node_store.cursors.load()  # the node's cursor key: made once per node, read once here
        lookups.patterns.warm()  # indicators' STIX patterns, compiled off the event loop
        # Feed pulls, peer runs, webhook deliveries, ... (accord.jobs; `serve --no-jobs`).
        jobs = start_background(node_store, settings)
        if lookup_workers.wanted(settings):
            node.bulk = BulkHelper(settings).start()
        # What start-up loaded (modules, the warninglists index) lives as long as the
        # process: out of the collector's sight, so that its full passes stay short.
        gc.collect()
        gc.freeze()
        yield
        if jobs is not None:
            await jobs.stop()
        if node.bulk is not None:
            node.bulk.close()
        node.close()
        if owned:
            node_store.close()

    app = FastAPI(
        title="Accord",
        version=accord.__version__,
        description=(
            "A cooperative threat-intelligence exchange. Every answer is filtered by TLP 2.0 "
            "for the organisation of the calling API key."
        ),
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours is vendored
        redoc_url=None,
        default_response_class=JSONResponse,
        lifespan=lifespan,
    )
    app.state.node = node
    problems.install(app, _portal_errors)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(NulGuard)
    app.include_router(health.router)
    for module in (
        objects,
        lookup,
        sightings,
        admin,
        accounts,
        audit,
        correlations,
        node_card,
        webhooks,
        stream,
        patterns,  # POST /patterns/match (accord.match.indicator_match)
        exports,  # what sensors poll (docs/exports.md)
        match,  # POST /match: a sensor's values or log lines (docs/matching.md)
    ):
        app.include_router(module.router, prefix=API)
    app.include_router(peers.router, prefix=API)  # the node admin's peers (federation)
    app.include_router(misp_feed.router)  # /misp-feed/: a MISP instance subscribes here
    # Hot routes served without FastAPI's per-request machinery; the FastAPI routes with
    # the same paths still describe them in the OpenAPI document.
    app.router.routes[0:0] = lookup.fast_routes(API)
    app.mount(TAXII_PREFIX, create_taxii_app(node_store, settings, node.auth))
    # The portal last: its pages at / (the look-up is the home page), beside the API, and
    # its static files at /static/ (Swagger UI of /api/docs among them).
    portal = Portal(node_store, settings, lookups, node.auth.forget)
    portal_app.install(app, portal)
    docs.install(app, "/api/docs", portal.assets, public_lookups=settings.public_lookups)
    return app


def _portal_errors(request: Request, status: int) -> Response | None:
    """Errors on the portal's paths are pages, elsewhere problem documents."""
    if not portal_app.is_portal_path(request.url.path):
        return None
    return portal_app.error_page(request, status)
