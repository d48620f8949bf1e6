"""The dashboard and the look-up card's sightings chart in a real browser: uPlot draws each
chart on a canvas (from the page's JSON block, or from the chart's own element in a fragment
that htmx swapped in), the tables of the same numbers fold away once a chart is drawn, nothing
breaks the Content-Security-Policy, nothing leaves the machine, and axe finds nothing serious.
What the numbers are is tests/web/test_dashboard.py's."""

from __future__ import annotations

from accessibility import describe, serious_violations
from live_node import LiveNode
from playwright.sync_api import ConsoleMessage, Page, expect

from accord.ingest.sighting_reports import report_sighting
from accord.ingest.sightings import SightingRequest
from accord.model.tlp import Tlp

# Sighted by the CERT in this module only (AMBER: no other organisation sees it), so that no
# other test of the live node meets it.
VALUE = "198.51.100.217"


def _errors(page: Page) -> list[str]:
    found: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def _sighted(live_node: LiveNode) -> None:
    store = live_node.store
    analyst = live_node.cast.community.analyst
    report_sighting(
        store,
        analyst,
        store.directory.viewer(analyst),
        SightingRequest(count=3, tlp=Tlp.AMBER),
        Tlp.AMBER,
        value=VALUE,
    )


def test_browser_dashboard_draws_its_charts(
    analyst_page: Page, live_node: LiveNode, outside_requests: list[str]
) -> None:
    _sighted(live_node)
    page = analyst_page
    errors = _errors(page)
    page.goto("/dashboard")
    for chart in ("#added-chart", "#seen-chart"):
        expect(page.locator(f"{chart} canvas")).to_be_visible()
        assert page.locator(chart).bounding_box()["height"] > 100  # type: ignore[index]
    expect(page.locator("details.chart-table")).not_to_have_attribute("open", "")
    expect(page.locator("#by-tlp")).to_contain_text("TLP:RED")
    assert not errors, errors
    assert not outside_requests, outside_requests
    found = serious_violations(page)
    assert not found, describe(page.url, found)


def test_browser_the_card_charts_the_sightings_after_an_htmx_look_up(
    analyst_page: Page, live_node: LiveNode, outside_requests: list[str]
) -> None:
    _sighted(live_node)
    page = analyst_page
    errors = _errors(page)
    page.locator("#q").fill(VALUE)
    page.locator(".lookup-form button[type=submit]").click()
    card = page.locator("#answer .verdict")
    expect(card.locator("#sightings-chart canvas")).to_be_visible()
    expect(card.locator(".reporter")).to_have_text(["CERT-EX"])
    expect(card.locator("details.chart-table")).not_to_have_attribute("open", "")
    assert page.url.endswith("/"), "the answer was swapped in, not loaded as a page"
    assert not errors, errors
    assert not outside_requests, outside_requests
    found = serious_violations(page)
    assert not found, describe(page.url, found)
