"""Request limits: a body-size cap (413), a NUL guard, and ``Retry-After`` for the token
buckets (`accord.ratelimit`) that `accord.api.auth` keeps per API key, per client address and
claimed account for failed authentications, per client address and node-wide for anonymous
look-ups."""

from __future__ import annotations

import math
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.api.problems import problem_response
from accord.taxii.errors import TaxiiError, error_response

TAXII_PREFIX = "/taxii2"  # where accord.api.app mounts the TAXII server


class BodyLimit:
    """ASGI middleware: refuse a body larger than ``limit`` bytes, whether or not the client
    says its length up front, before the application reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        seen = 0
        limit = self.limit
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(413, self._description())
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except _TooLarge:
            if not started:  # the TAXII application answers it itself, as a TAXII error
                await self._refuse(scope, receive, send)

    def _description(self) -> str:
        return f"the request body is larger than {self.limit} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        description = self._description()
        path = str(scope.get("path") or "")
        if path == TAXII_PREFIX or path.startswith(TAXII_PREFIX + "/"):
            # Under /taxii2/ every error is a TAXII error message (TAXII 2.1 section 3.6).
            response = error_response(413, description)
        else:
            response = problem_response(413, description, path)
        await response(scope, receive, send)


class _TooLarge(TaxiiError):
    """Raised while the application reads the body; a TaxiiError so that the TAXII
    application, which answers every exception itself, answers this one with its 413."""


def retry_after(seconds: float) -> dict[str, Any]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


class NulGuard:
    """ASGI middleware: a NUL byte in the path or the query never reaches the application
    (PostgreSQL cannot hold one in text, and no id, e-mail, value or filter has one).

    In the path it answers 404, as for anything that does not exist; in the query 422 (400
    under /taxii2/, TAXII's status for a bad parameter). JSON bodies are checked where they
    are read (a look-up's values; STIX strings are stored escaped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path") or "")
        query: bytes = scope.get("query_string", b"")
        in_path = "\x00" in path
        in_query = b"%00" in query or b"\x00" in query
        if not (in_path or in_query):
            await self.app(scope, receive, send)
            return
        taxii = path == TAXII_PREFIX or path.startswith(TAXII_PREFIX + "/")
        shown = path.replace("\x00", "\\x00")
        if in_path:
            status, detail = 404, "nothing here that you may see"
        else:
            status, detail = (400 if taxii else 422), "the query holds a NUL byte (%00)"
        response = (
            error_response(status, detail) if taxii else problem_response(status, detail, shown)
        )
        await response(scope, receive, send)
