"""JSON responses encoded with orjson (faster than the standard library; FastAPI's own
JSONResponse is deprecated in favour of response models, which would validate every
look-up answer twice)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    """A JSON response (so that the OpenAPI document shows the route's response model)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
