"""Server discovery (TAXII 2.1 section 4.1), API root information (section 4.2) and status
resources (section 4.3). The node has one API root, ``accord``."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

import accord
from accord.taxii.context import begin, taxii_response
from accord.taxii.errors import not_found
from accord.taxii.media import TAXII_21

API_ROOT = "accord"


def api_root_url(request: Request) -> str:
    """The API root's absolute URL (the server's ``/taxii2/`` mount plus the root)."""
    mount = request.scope.get("root_path", "")  # "/taxii2" under the node, proxy prefix too
    return f"{request.url.scheme}://{request.url.netloc}{mount}/{API_ROOT}/"


def check_root(request: Request) -> None:
    if request.path_params.get("api_root") != API_ROOT:
        raise not_found(f"API root {request.path_params.get('api_root')!r}")


def server_discovery(request: Request) -> Response:
    begin(request)
    root = api_root_url(request)
    body = {
        "title": "Accord TAXII 2.1",
        "description": (
            "A cooperative threat-intelligence exchange: every answer is filtered by TLP 2.0 "
            "for the organisation of the calling API key."
        ),
        "default": root,
        "api_roots": [root],
    }
    return taxii_response(orjson.dumps(body))


def api_root(request: Request) -> Response:
    node, _ = begin(request)
    check_root(request)
    body = {
        "title": "Accord",
        "description": f"Accord {accord.__version__}: the objects your organisation may see.",
        "versions": [TAXII_21],
        "max_content_length": node.settings.max_body_bytes,
    }
    return taxii_response(orjson.dumps(body))


def status(request: Request) -> Response:
    node, caller = begin(request)
    check_root(request)
    status_id = request.path_params["status_id"]
    found = None
    if caller.viewer.org_id is not None:
        found = node.store.taxii.status(status_id, caller.viewer.org_id)
    if found is None:
        raise not_found(f"status {status_id!r}")
    return taxii_response(orjson.dumps(found))
