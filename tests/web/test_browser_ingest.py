"""Report ingest in a real browser: paste a note, review it, untick a value, store, and land on
the new report's page; the stored report holds exactly the values kept. The review and the
result pages pass axe-core, and the flow works without JavaScript too."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from accessibility import assert_accessible
from browsing import open_context, path_of, sign_in
from live_node import LiveNode, password_of
from playwright.sync_api import Browser, Page, expect

# Values of its own: the live node is shared by the tests of a worker.
NOTE = """\
2026-01-05: BROWSER TEST NOTE

INDICATORS:
- hxxps://invoice-portal-login[.]net/auth/start.php
- 45.77.121[.]17 port 8443 - HTTPS traffic
- SHA256 hash: 9f2c4f7e1b3a5d6c8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f
- documentation address 192.0.2.61 (not an indicator)
"""
UNTICKED = "url:https://invoice-portal-login.net/auth/start.php"


def _review(page: Page, text: str) -> None:
    page.goto("/ingest")
    page.locator("#report-text").fill(text)
    with page.expect_navigation():
        page.locator("form[action='/ingest/review'] button[type=submit]").click()
    assert path_of(page) == "/ingest/review"


def _stored_names(live_node: LiveNode, report_id: str) -> set[str]:
    viewer = live_node.cast.viewers["creator"]
    report = live_node.store.objects.get(viewer, report_id)
    assert report is not None
    names = set()
    for ref in orjson.loads(report.raw)["object_refs"]:
        found = live_node.store.objects.get(viewer, ref)
        assert found is not None
        names.add(orjson.loads(found.raw)["name"])
    return names


def test_paste_review_untick_one_and_store(analyst_page: Page, live_node: LiveNode) -> None:
    page = analyst_page
    page.goto("/ingest")
    assert_accessible(page)
    _review(page, NOTE)
    expect(page.locator(".keep-tools")).to_be_visible()  # the script's buttons
    boxes = page.locator("table.review input[name=keep]")
    # The URL and its host, the address and the URL its traffic line makes, the hash, and
    # the documentation address.
    expect(boxes).to_have_count(6)
    documentation = page.locator("input[name=keep][value='ipv4:192.0.2.61']")
    expect(documentation).not_to_be_checked()  # flagged: left out unless ticked
    unticked = page.locator(f"input[name=keep][value='{UNTICKED}']")
    expect(unticked).to_be_checked()
    unticked.uncheck()
    expect(page.locator("[data-keep-count]")).to_have_text("4 of 6 kept")
    assert_accessible(page)
    page.locator("#report-name").fill("Browser test note")
    page.locator("input[name=tlp][value=green]").check()
    with page.expect_navigation():
        page.locator("form.review-form button[type=submit]").click()
    landed = path_of(page)
    assert landed.startswith("/objects/report--"), landed
    names = _stored_names(live_node, landed.removeprefix("/objects/"))
    assert names == {
        "invoice-portal-login.net",
        "https://45.77.121.17:8443/",
        "45.77.121.17",
        "9f2c4f7e1b3a5d6c8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f",
    }


def test_the_keep_buttons(analyst_page: Page) -> None:
    page = analyst_page
    _review(page, NOTE.replace("BROWSER TEST NOTE", "BUTTONS"))
    boxes = page.locator("table.review input[name=keep]")
    page.locator("button[data-keep=none]").click()
    expect(page.locator("table.review input[name=keep]:checked")).to_have_count(0)
    page.locator("button[data-keep=all]").click()
    expect(page.locator("table.review input[name=keep]:checked")).to_have_count(boxes.count())
    page.locator("button[data-keep=unflagged]").click()
    expect(page.locator("input[name=keep][value='ipv4:192.0.2.61']")).not_to_be_checked()
    expect(page.locator(f"input[name=keep][value='{UNTICKED}']")).to_be_checked()


def test_ingest_works_without_javascript(
    browser: Browser, live_node: LiveNode, outside_requests: list[str]
) -> None:
    context = open_context(browser, live_node.url, outside_requests, java_script_enabled=False)
    try:
        page = context.new_page()
        analyst = live_node.cast.community.analyst
        sign_in(page, analyst.email, password_of(analyst))
        _review(page, NOTE.replace("BROWSER TEST NOTE", "NO SCRIPT"))
        expect(page.locator(".keep-tools")).to_be_hidden()
        with page.expect_navigation():
            page.locator("form.review-form button[type=submit]").click()
        assert path_of(page).startswith("/objects/report--")
    finally:
        context.close()


def test_a_bundle_with_a_bad_object_shows_the_table(analyst_page: Page, tmp_path: Path) -> None:
    page = analyst_page
    bundle = {
        "type": "bundle",
        "id": "bundle--0b1d4f4c-0e1b-4c3e-9a8c-2f0c1d5e7a10",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--0b1d4f4c-0e1b-4c3e-9a8c-2f0c1d5e7a13",
                "created": "2026-01-02T00:00:00.000Z",
                "modified": "2026-01-02T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = ",
                "pattern_type": "stix",
                "valid_from": "2026-01-02T00:00:00Z",
            }
        ],
    }
    path = tmp_path / "bad-bundle.json"
    path.write_bytes(orjson.dumps(bundle))
    page.goto("/ingest")
    page.locator("#data-file").set_input_files(str(path))
    with page.expect_navigation():
        page.locator("form[action='/ingest/file'] button[type=submit]").click()
    expect(page.locator("[role=alert]").first).to_contain_text("Nothing was stored")
    row = page.locator("table.results tbody tr").first
    expect(row).to_contain_text("rejected")
    expect(row).to_contain_text("pattern")
    assert_accessible(page)


@pytest.mark.parametrize("locale", ["en-GB", "es-ES"])
def test_a_refusal_is_accessible(
    browser: Browser, live_node: LiveNode, outside_requests: list[str], locale: str
) -> None:
    context = open_context(browser, live_node.url, outside_requests, locale=locale)
    try:
        page = context.new_page()
        analyst = live_node.cast.community.analyst
        sign_in(page, analyst.email, password_of(analyst))
        page.goto("/ingest")
        with page.expect_navigation():
            page.locator("form[action='/ingest/review'] button[type=submit]").click()
        expect(page.locator("[role=alert]")).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()
