"""The browser plumbing itself: Chromium reaches the live node, screenshots work, and axe runs
in a page. What the portal's pages show is tested beside this, page by page."""

from __future__ import annotations

from pathlib import Path

import orjson
from accessibility import describe, serious_violations
from live_node import LiveNode
from playwright.sync_api import Page, expect


def test_the_browser_reaches_the_live_node(page: Page, live_node: LiveNode) -> None:
    response = page.goto("/health")
    assert response is not None and response.ok
    assert response.url == f"{live_node.url}/health"
    assert orjson.loads(response.body())["status"] == "ok"


def test_api_docs_work_offline_and_can_be_photographed(
    page: Page, tmp_path: Path, outside_requests: list[str]
) -> None:
    response = page.goto("/api/docs")
    assert response is not None and response.ok
    assert "text/html" in response.headers["content-type"]
    # Swagger UI, vendored, draws the node's API from its OpenAPI document, with nothing
    # fetched from the internet.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Accord")
    expect(page.locator(".swagger-ui .btn.authorize")).to_be_visible()
    assert outside_requests == []
    shot = tmp_path / "api-docs.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_requests_off_the_machine_are_refused_and_listed(
    page: Page, outside_requests: list[str]
) -> None:
    page.goto("/health")
    page.set_content(
        '<img src="/health"><script src="https://cdn.example.invalid/lib.js"></script>'
    )
    assert outside_requests == ["https://cdn.example.invalid/lib.js"]


def test_axe_runs_in_a_page_and_reports_what_it_finds(page: Page) -> None:
    # A page made to fail two serious rules (an image without alt text, an input without a
    # label) and pass the rest: the helper must find exactly those, and say where.
    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<h1>Look-up</h1><img src="data:," id="logo"><input id="value" type="text">'
        "</main></body></html>"
    )
    violations = serious_violations(page)
    assert {v.rule for v in violations} == {"image-alt", "label"}
    text = describe("about:blank", violations)
    assert "image-alt (critical, 1 element(s))" in text
    assert "at #logo" in text and "at #value" in text

    page.set_content(
        '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
        '<h1>Look-up</h1><img src="data:," alt="Accord"><label>Value <input type="text"></label>'
        "</main></body></html>"
    )
    assert serious_violations(page) == []
