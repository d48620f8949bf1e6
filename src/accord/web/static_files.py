"""Placeholder until the static-files branch lands: logical path -> URL."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response


class StaticAssets:
    def __init__(self, root: Path) -> None:
        self.root = root

    def url(self, logical: str) -> str:
        return "/static/" + logical

    async def endpoint(self, request: Request) -> Response:
        path = (self.root / request.path_params["path"]).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return Response(status_code=404)
        return FileResponse(path)
