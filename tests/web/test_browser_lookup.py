"""The look-up page in a real browser: one value gives a verdict card, many give a table; what
the card shows is what the visibility rule lets the reader see, and the page works without
JavaScript too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from browsing import open_context, path_of, sign_in
from live_node import LiveNode, password_of
from playwright.sync_api import Browser, Page, StorageState, expect

from accord.model.tlp import Tlp
from accord.store.organisations import User
from leakdata import ADDRESS, DOMAIN


def look_up(page: Page, text: str) -> None:
    """Type ``text`` in the box and press the button, as a person does; whether htmx swaps
    the answer in or the form loads a new page, the answer is then in #answer."""
    page.locator("#q").fill(text)
    page.locator(".lookup-form button[type=submit]").click()


def test_one_value_answers_with_a_verdict_card_and_its_reasons(analyst_page: Page) -> None:
    page = analyst_page
    look_up(page, ADDRESS[Tlp.AMBER])
    card = page.locator("#answer .verdict")
    expect(card).to_be_visible()
    expect(card.locator(".value")).to_have_text(ADDRESS[Tlp.AMBER])
    reasons = card.locator("table.reasons tbody tr")
    expect(reasons).not_to_have_count(0)
    expect(reasons.first).to_contain_text("TLP:AMBER")
    expect(card).to_contain_text("TLP:AMBER test indicator")


def test_a_defanged_value_is_looked_up_as_the_value(analyst_page: Page) -> None:
    page = analyst_page
    look_up(page, DOMAIN[Tlp.GREEN].replace(".", "[.]"))
    expect(page.locator("#answer .verdict .value")).to_have_text(DOMAIN[Tlp.GREEN])


def test_many_values_answer_with_a_table_of_verdicts(analyst_page: Page) -> None:
    page = analyst_page
    values = [ADDRESS[Tlp.CLEAR], DOMAIN[Tlp.GREEN], "203.0.113.250", "%%%"]
    look_up(page, "\n".join(values))
    table = page.locator("#answer table#bulk")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(values))
    expect(page.locator("#answer h2")).to_have_text(f"{len(values)} values")
    expect(rows.nth(0)).to_contain_text(ADDRESS[Tlp.CLEAR])
    expect(rows.nth(0).locator(".verdict-chip")).to_be_visible()
    expect(rows.nth(3)).to_contain_text("not a value")
    # The table sorts by a column, and downloads as CSV and JSON (after an htmx swap too).
    page.locator("#bulk th[data-sort=number]").first.click()
    expect(page.locator("#bulk th[aria-sort]")).to_have_count(1)
    with page.expect_download() as got:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(got.value.path()).read_text()
    assert csv_text.startswith("query,type,value,verdict,score")
    assert ADDRESS[Tlp.CLEAR] in csv_text and "%%%" in csv_text
    with page.expect_download() as got:
        page.get_by_role("button", name="Download JSON").click()
    answers = json.loads(Path(got.value.path()).read_text())["answers"]
    assert [a["query"] for a in answers] == values


def test_the_card_shows_only_what_the_reader_may_see(page: Page, live_node: LiveNode) -> None:
    # The water utility is an outsider to the RED indicator: its look-up of the RED address
    # reads "unknown", and nothing of the indicator (name, id) is on the page.
    operator = live_node.cast.community.operator
    sign_in(page, operator.email, password_of(operator))
    look_up(page, ADDRESS[Tlp.RED])
    card = page.locator("#answer .verdict")
    expect(card).to_be_visible()
    expect(card).to_have_class("card verdict verdict-unknown")
    html = page.content()
    assert "TLP:RED test indicator" not in html
    assert "indicator--00000000-0000-4000-8000-000000000004" not in html


def test_the_look_up_works_without_javascript(
    browser: Browser, live_node: LiveNode, outside_requests: list[str]
) -> None:
    context = open_context(browser, live_node.url, outside_requests, java_script_enabled=False)
    try:
        page = context.new_page()
        analyst = live_node.cast.community.analyst
        sign_in(page, analyst.email, password_of(analyst))
        page.locator("#q").fill(ADDRESS[Tlp.GREEN])
        with page.expect_navigation():
            page.locator(".lookup-form button[type=submit]").click()
        assert path_of(page) == "/lookup"
        expect(page.locator("#answer .verdict .value")).to_have_text(ADDRESS[Tlp.GREEN])
    finally:
        context.close()


def test_an_empty_box_says_what_to_do(analyst_page: Page) -> None:
    page = analyst_page
    # The box is `required`: the browser itself asks for a value; the server's answer to an
    # empty post (a blank paste) is checked by sending only spaces.
    look_up(page, "   \n  ")
    expect(page.get_by_role("alert")).to_have_text("Type or paste a value to look up.")


def test_too_many_values_say_how_many_are_taken(analyst_page: Page) -> None:
    page = analyst_page
    look_up(page, "\n".join(f"198.51.{i // 250}.{i % 250}" for i in range(1001)))
    expect(page.get_by_role("alert")).to_contain_text(
        "At most 1,000 values at once here", timeout=5_000
    )


def test_a_sighting_is_reported_from_the_card(
    browser: Browser,
    live_node: LiveNode,
    outside_requests: list[str],
    signed_in: Callable[[User], StorageState],
) -> None:
    # The water utility (a sensor) saw the GREEN address: one click on the card records it
    # anonymously, and the card then counts one sighting more.
    operator = live_node.cast.community.operator
    context = open_context(
        browser, live_node.url, outside_requests, storage_state=signed_in(operator)
    )
    try:
        page = context.new_page()
        page.goto("/")
        look_up(page, ADDRESS[Tlp.GREEN])
        card = page.locator("#answer .verdict")
        expect(card).to_be_visible()
        facts = card.locator("dl.facts")
        before = int(facts.locator("dt:text-is('Sightings') + dd").inner_text())
        card.get_by_label("anonymously").check()
        card.get_by_role("button", name="We saw it").click()
        expect(page.get_by_role("status")).to_contain_text("your sighting is recorded")
        after = page.locator("#answer .verdict dl.facts dt:text-is('Sightings') + dd")
        expect(after).to_have_text(str(before + 1))
    finally:
        context.close()
