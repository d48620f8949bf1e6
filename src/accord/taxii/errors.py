"""The TAXII error message (TAXII 2.1 section 3.6): every error under ``/taxii2/`` is one,
with the HTTP status of the failure (not RFC 9457 problem details, which the REST API uses).

A collection or object the caller may not see answers 404 exactly like one that does not
exist (sections 5.2 and 5.6 allow it; TLP says the existence itself must not leak)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from accord.taxii.media import TAXII_21

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
}


class TaxiiError(Exception):
    """Raise to answer with a TAXII error message."""

    def __init__(
        self,
        status: int,
        description: str,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}
        self.details = details


def error_response(
    status: int,
    description: str,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "title": TITLES.get(status, "Error"),
        "description": description,
        "http_status": str(status),
    }
    if details:
        body["details"] = details
    return Response(orjson.dumps(body), status, headers=headers, media_type=TAXII_21)


def not_found(what: str) -> TaxiiError:
    return TaxiiError(404, f"no {what} that you may see")
