"""JSON request bodies read as every other JSON document of the node (accord.model.jsondoc).

FastAPI parses a body with the standard library, which keeps the last of a repeated key (a
sighting posted with ``"tlp": "red"`` then ``"tlp": "clear"`` would be CLEAR) and nests as
deep as the stack allows. Every router's routes use `JsonRoute`, whose requests parse their
body with `accord.model.jsondoc.loads`: a body nested too deep or repeating a key answers 400
naming where; a body that is not JSON at all is left to FastAPI's usual 422.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from accord.model.jsondoc import JsonDocumentError, JsonLimitError, loads


class _JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads(body)
            except JsonLimitError as exc:
                raise HTTPException(400, f"the body is not accepted: {exc}") from None
            except JsonDocumentError:
                self._json = json.loads(body)  # raises FastAPI's JSONDecodeError, with where
        return self._json


class JsonRoute(APIRoute):
    """An APIRoute whose request bodies are read by `accord.model.jsondoc`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read_with_limits(request: Request) -> Response:
            return await handler(_JsonRequest(request.scope, request.receive))

        return read_with_limits
