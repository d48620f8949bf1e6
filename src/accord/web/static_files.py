"""The portal's static files (vendored libraries and its own CSS and JavaScript), served under
names that carry a hash of their content, so that a browser may keep each one for a year.

- At start-up every file under the root (``src/accord/web/static/``) is read, hashed (SHA-256)
  and, when it is text and compresses, gzipped once; all of it is kept in memory (the files
  are a few megabytes). `StaticAssets.url` names a file by its path under the root
  (``vendor/htmx/htmx.min.js``) and answers ``/static/vendor/htmx/htmx.min.<hash8>.js``:
  a new release of a file gets a new name, so the long cache never serves a stale one.
- `StaticAssets.route` serves exactly those hashed names: ``Cache-Control: public,
  max-age=31536000, immutable``, a strong ``ETag`` per encoding (``If-None-Match`` answered
  with 304), ``Vary: Accept-Encoding`` and ``X-Content-Type-Options: nosniff``. An unhashed
  name, a stale hash, a folder, ``..`` or anything else is a 404: a request is only ever a
  look-up in the table built at start-up, and never reaches the file system, so nothing
  outside the root can be read and no folder is listed.
- The files are public (no access control): they hold code and styles, never intelligence.
- `StaticAssets.packaged` is the one table of the package's own files, made once per process:
  the API and the portal share it, and an application built per test does not hash and
  compress three megabytes again.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

PACKAGED_ROOT: Final = Path(__file__).resolve().parent / "static"
PREFIX: Final = "/static"
CACHE_CONTROL: Final = "public, max-age=31536000, immutable"
HASH_LENGTH: Final = 8
# Below this a gzip body saves too little to be worth a second representation.
_MIN_GZIP: Final = 256
_GZIP_LEVEL: Final = 6  # level 9 saves under 1% more on these files and takes half as long again

# Explicit where the platform's table varies (mimetypes reads /etc/mime.types) or is old.
_MEDIA_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/vnd.microsoft.icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE, NOTICE
}
_COMPRESSIBLE: Final = ("text/", "application/json", "image/svg+xml")


@dataclass(frozen=True, slots=True)
class Asset:
    """One file: its hashed URL path (under the prefix), body, gzip body, type and ETag."""

    hashed: str
    media_type: str
    body: bytes
    gzipped: bytes | None
    etag: str

    def headers(self, encoding: str | None) -> dict[str, str]:
        headers = {
            "Cache-Control": CACHE_CONTROL,
            "ETag": self.etag_for(encoding),
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if encoding is not None:
            headers["Content-Encoding"] = encoding
        return headers

    def etag_for(self, encoding: str | None) -> str:
        # A strong ETag names one representation: the gzip body gets its own (RFC 9110 8.8.3).
        return f'"{self.etag}-gzip"' if encoding == "gzip" else f'"{self.etag}"'


class StaticAssets:
    """The files under ``root``, by hashed name; `url` for templates, `route` to serve them."""

    def __init__(self, root: Path, prefix: str = PREFIX) -> None:
        self.root = root.resolve()
        self.prefix = prefix.rstrip("/")
        self._urls: dict[str, str] = {}  # logical path -> URL
        self._assets: dict[str, Asset] = {}  # hashed path (no prefix) -> asset
        if not self.root.is_dir():
            raise FileNotFoundError(f"no static folder at {self.root}")
        for path in sorted(self.root.rglob("*")):
            logical = path.relative_to(self.root)
            if path.is_dir() or any(part.startswith(".") for part in logical.parts):
                continue
            if not path.resolve().is_relative_to(self.root):
                continue  # a link out of the root is not ours to serve
            self._add(PurePosixPath(logical.as_posix()), path.read_bytes())

    @classmethod
    @functools.cache
    def packaged(cls) -> StaticAssets:
        """The package's own files (``accord/web/static/``), read once per process."""
        return cls(PACKAGED_ROOT)

    def _add(self, logical: PurePosixPath, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()
        suffix = logical.suffix
        stem = logical.name[: -len(suffix)] if suffix else logical.name
        hashed = str(logical.with_name(f"{stem}.{digest[:HASH_LENGTH]}{suffix}"))
        if hashed in self._assets:
            raise ValueError(f"two static files share the hashed name {hashed}")
        media_type = _MEDIA_TYPES.get(suffix.lower()) or (
            mimetypes.guess_type(logical.name)[0] or "application/octet-stream"
        )
        gzipped = None
        if len(body) >= _MIN_GZIP and media_type.startswith(_COMPRESSIBLE):
            packed = gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
            gzipped = packed if len(packed) < len(body) * 0.9 else None
        self._assets[hashed] = Asset(hashed, media_type, body, gzipped, digest[:32])
        self._urls[str(logical)] = f"{self.prefix}/{hashed}"

    def url(self, logical: str) -> str:
        """The URL of the file at ``logical`` under the root (``vendor/htmx/htmx.min.js``).
        A name that is not there raises `LookupError`: a typo in a template fails loudly."""
        try:
            return self._urls[logical.lstrip("/")]
        except KeyError:
            raise LookupError(f"no static file {logical!r} under {self.root}") from None

    def __contains__(self, logical: str) -> bool:
        return logical.lstrip("/") in self._urls

    def route(self) -> Route:
        """The route that serves the hashed names under the prefix (GET and HEAD)."""
        return Route(
            f"{self.prefix}/{{path:path}}",
            self.endpoint,
            methods=["GET", "HEAD"],
            include_in_schema=False,
            name="static",
        )

    async def endpoint(self, request: Request) -> Response:
        asset = self._assets.get(request.path_params.get("path", ""))
        if asset is None:
            return PlainTextResponse("Not Found", status_code=404)
        encoding = (
            "gzip"
            if asset.gzipped is not None
            and accepts_gzip(request.headers.get("accept-encoding", ""))
            else None
        )
        headers = asset.headers(encoding)
        if _matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        body = asset.gzipped if encoding is not None and asset.gzipped else asset.body
        return Response(body, media_type=asset.media_type, headers=headers)


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` value admits gzip (RFC 9110 12.5.3): ``gzip`` (or
    ``x-gzip``) with a q-value above zero, else ``*`` with one; ``gzip;q=0`` refuses it."""
    qualities: dict[str, float] = {}
    for item in header.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[coding.lower()] = quality
    for coding in ("gzip", "x-gzip", "*"):
        if coding in qualities:
            return qualities[coding] > 0
    return False


def _matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` against this ETag, by the weak comparison RFC 9110 13.1.2 asks for."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in candidates
