"""/api/docs works offline (accord.api.docs): the page loads only the vendored Swagger UI from
/static, and the OpenAPI document declares the bearer and basic schemes the node takes, with
each operation's requirement read from its route."""

from __future__ import annotations

import base64
import re
from typing import Any

from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.settings import Settings
from accord.store.node import Store

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _document(api: Any) -> dict[str, Any]:
    response = api.http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_docs_page_loads_only_local_files(api) -> None:  # type: ignore[no-untyped-def]
    response = api.http.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert "<script>" not in page  # no inline script: its policy forbids them
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'data-openapi-url="/api/v1/openapi.json"' in page
    references = _REFERENCE.findall(page)
    local = [url for url in references if url.startswith("/static/")]
    assert set(references) - set(local) == {"data:,"}  # the empty favicon
    assert any("swagger-ui-bundle." in url for url in local)
    assert any("swagger-ui." in url and url.endswith(".css") for url in local)
    assert any("swagger-init." in url for url in local)
    for url in local:
        served = api.http.get(url)
        assert served.status_code == 200, url
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        assert served.headers["content-type"].startswith(kind), url


def test_swagger_ui_keeps_the_key_and_asks_no_validator(api) -> None:  # type: ignore[no-untyped-def]
    page = api.http.get("/api/docs").text
    start = next(url for url in _REFERENCE.findall(page) if "swagger-init." in url)
    script = api.http.get(start).text
    assert "persistAuthorization: true" in script
    assert "validatorUrl: null" in script


def test_openapi_declares_bearer_and_basic(api) -> None:  # type: ignore[no-untyped-def]
    document = _document(api)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert schemes["basic"]["type"] == "http" and schemes["basic"]["scheme"] == "basic"
    assert document["security"] == [{"bearer": []}, {"basic": []}]


def test_each_operation_says_whether_it_needs_a_key(api) -> None:  # type: ignore[no-untyped-def]
    paths = _document(api)["paths"]
    # Look-ups may be anonymous here (the fixture's node allows public look-ups).
    for method in ("get", "post"):
        assert {} in paths["/api/v1/lookup"][method]["security"]
    assert paths["/health"]["get"]["security"] == []
    # The rest inherit the document's requirement: a key, as bearer or basic.
    assert "security" not in paths["/api/v1/objects"]["get"]
    assert "security" not in paths["/api/v1/sightings"]["post"]
    # POST /match: a key; values as JSON, log lines as text or JSON lines (docs/matching.md).
    match = paths["/api/v1/match"]["post"]
    assert "security" not in match
    assert set(match["requestBody"]["content"]) == {
        "application/json",
        "text/plain",
        "application/x-ndjson",
    }
    assert {p["name"] for p in match["parameters"]} == {
        "format",
        "fields",
        "include_benign",
        "sight",
        "anonymous",
    }
    assert not any("/static" in path or path == "/api/docs" for path in paths)


def test_lookups_need_a_key_where_the_node_says_so(store: Store, store_url: str) -> None:
    app = create_app(Settings(database_url=store_url, public_lookups=False), store=store)
    with TestClient(app) as http:
        lookup = http.get("/api/v1/openapi.json").json()["paths"]["/api/v1/lookup"]
        assert lookup["get"]["security"] == [{"bearer": []}, {"basic": []}]
        assert lookup["post"]["security"] == [{"bearer": []}, {"basic": []}]
        response = http.get("/api/v1/lookup", params={"value": "example.com"})
        assert response.status_code == 401


def test_the_documented_schemes_are_the_ones_taken(api) -> None:  # type: ignore[no-untyped-def]
    email = "analyst@cert.example"
    key = api.keys[email]
    bearer = {"Authorization": f"Bearer {key}"}
    basic = {"Authorization": "Basic " + base64.b64encode(f"{email}:{key}".encode()).decode()}
    for headers in (bearer, basic):
        assert api.http.get("/api/v1/objects", headers=headers).status_code == 200
    assert api.http.get("/api/v1/objects").status_code == 401
