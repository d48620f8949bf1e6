"""The static files (accord.web.static_files): hashed names served with a year's cache, gzip
when asked for, and nothing but those names (no stale hash, no traversal, no folder)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import anyio
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from accord.web.static_files import CACHE_CONTROL, StaticAssets, accepts_gzip

SCRIPT = b"document.body.dataset.ready = 'yes';\n" * 40  # long enough to be compressed
STYLE = b"body { color: #222; }\n" * 40


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "vendor" / "lib").mkdir(parents=True)
    (static / "portal").mkdir()
    (static / "vendor" / "lib" / "lib.min.js").write_bytes(SCRIPT)
    (static / "vendor" / "lib" / "LICENSE").write_bytes(b"MIT\n")
    (static / "portal" / "portal.css").write_bytes(STYLE)
    (static / "portal" / "tiny.js").write_bytes(b"1;\n")
    (static / ".hidden.js").write_bytes(b"secret;\n")
    (tmp_path / "outside.txt").write_bytes(b"not static\n")
    (static / "portal" / "link.txt").symlink_to(tmp_path / "outside.txt")
    return static


@pytest.fixture
def assets(root: Path) -> StaticAssets:
    return StaticAssets(root)


@pytest.fixture
def client(assets: StaticAssets) -> TestClient:
    return TestClient(Starlette(routes=[assets.route()]))


def _hash8(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def test_url_carries_the_content_hash(assets: StaticAssets) -> None:
    assert assets.url("vendor/lib/lib.min.js") == f"/static/vendor/lib/lib.min.{_hash8(SCRIPT)}.js"
    assert assets.url("portal/portal.css") == f"/static/portal/portal.{_hash8(STYLE)}.css"
    licence = _hash8(b"MIT\n")
    assert assets.url("vendor/lib/LICENSE") == f"/static/vendor/lib/LICENSE.{licence}"
    assert "portal/portal.css" in assets
    with pytest.raises(LookupError, match="no static file"):
        assets.url("portal/missing.css")


def test_hashed_url_is_served_with_long_cache_headers(
    assets: StaticAssets, client: TestClient
) -> None:
    response = client.get(assets.url("vendor/lib/lib.min.js"), headers={"Accept-Encoding": ""})
    assert response.status_code == 200
    assert response.content == SCRIPT
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["etag"] == f'"{hashlib.sha256(SCRIPT).hexdigest()[:32]}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(SCRIPT))


def test_content_types(assets: StaticAssets, client: TestClient) -> None:
    types = {
        "vendor/lib/lib.min.js": "text/javascript; charset=utf-8",
        "portal/portal.css": "text/css; charset=utf-8",
        "vendor/lib/LICENSE": "text/plain; charset=utf-8",
    }
    for logical, media_type in types.items():
        assert client.get(assets.url(logical)).headers["content-type"] == media_type


def test_gzip_when_the_client_accepts_it(assets: StaticAssets, client: TestClient) -> None:
    url = assets.url("portal/portal.css")
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    # httpx decodes the body it asked for; the raw stream shows what was sent.
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip, deflate"}) as packed:
        raw = b"".join(packed.iter_raw())
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.headers["etag"] != plain.headers["etag"]
        assert packed.headers["etag"].endswith('-gzip"')
        assert packed.headers["cache-control"] == CACHE_CONTROL
        assert packed.headers["content-type"] == "text/css; charset=utf-8"
    assert len(raw) < len(STYLE)
    assert gzip.decompress(raw) == STYLE == plain.content
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_small_files_are_not_compressed(assets: StaticAssets, client: TestClient) -> None:
    response = client.get(assets.url("portal/tiny.js"), headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content == b"1;\n"


def test_if_none_match_answers_304(assets: StaticAssets, client: TestClient) -> None:
    url = assets.url("vendor/lib/lib.min.js")
    etag = client.get(url, headers={"Accept-Encoding": ""}).headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": ""})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(url, headers={"If-None-Match": '"nope"', "Accept-Encoding": ""})
    assert other.status_code == 200


def test_wrong_stale_or_missing_hash_is_404(assets: StaticAssets, client: TestClient) -> None:
    good = assets.url("vendor/lib/lib.min.js")
    for url in (
        "/static/vendor/lib/lib.min.js",  # unhashed
        "/static/vendor/lib/lib.min.00000000.js",  # another version's hash
        good.replace(".js", ".css"),
        good + ".map",
        "/static/vendor/lib/",  # a folder: never listed
        "/static/vendor/",
        "/static/",
        "/static/portal/missing.12345678.css",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert SCRIPT not in response.content


def test_traversal_and_files_outside_are_404(
    root: Path, assets: StaticAssets, client: TestClient
) -> None:
    outside = _hash8(b"not static\n")
    hidden = _hash8(b"secret;\n")
    for url in (
        f"/static/../outside.{outside}.txt",
        f"/static/%2e%2e/outside.{outside}.txt",
        f"/static/portal/..%2f..%2foutside.{outside}.txt",
        f"/static/portal/link.{outside}.txt",  # a link out of the root is not served
        f"/static/.hidden.{hidden}.js",  # hidden files are left out
        "/static//etc/passwd",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
    assert "portal/link.txt" not in assets
    assert ".hidden.js" not in assets


def _raw_get(app: Starlette, path: str) -> int:
    """The status for ``path`` sent as is (httpx would remove its dot segments first)."""
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(str(message["status"])))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    return statuses[0]


def test_dot_segments_sent_raw_are_404(assets: StaticAssets) -> None:
    app = Starlette(routes=[assets.route()])
    outside = _hash8(b"not static\n")
    style = _hash8(STYLE)
    assert _raw_get(app, f"/static/portal/portal.{style}.css") == 200
    for path in (
        f"/static/../outside.{outside}.txt",
        f"/static/portal/../../outside.{outside}.txt",
        f"/static/vendor/lib/../../portal/portal.{style}.css",
        f"/static/./portal/portal.{style}.css",
        f"/static/portal//portal.{style}.css",
    ):
        assert _raw_get(app, path) == 404, path


def test_head_is_answered(assets: StaticAssets, client: TestClient) -> None:
    response = client.head(assets.url("portal/portal.css"))
    assert response.status_code == 200
    assert response.headers["cache-control"] == CACHE_CONTROL


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("x-gzip", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *", False),
        ("*;q=0", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accepts_gzip(header: str, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_the_packaged_files_are_all_served() -> None:
    assets = StaticAssets.packaged()
    assert StaticAssets.packaged() is assets  # once per process
    client = TestClient(Starlette(routes=[assets.route()]))
    for logical, media_type in (
        ("vendor/htmx/htmx.min.js", "text/javascript; charset=utf-8"),
        ("vendor/cytoscape/cytoscape.min.js", "text/javascript; charset=utf-8"),
        ("vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
        ("vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
        ("vendor/swagger-ui-dist/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("vendor/swagger-ui-dist/swagger-ui.css", "text/css; charset=utf-8"),
        ("vendor/axe-core/axe.min.js", "text/javascript; charset=utf-8"),
        ("api-docs/swagger-init.js", "text/javascript; charset=utf-8"),
    ):
        response = client.get(assets.url(logical))
        assert response.status_code == 200, logical
        assert response.headers["content-type"] == media_type
        assert response.headers["content-encoding"] == "gzip"  # TestClient accepts it
