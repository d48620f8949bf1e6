"""The portal's language in a real browser: the browser's Accept-Language chooses it, a link
on the page switches it and the choice is remembered."""

from __future__ import annotations

from browsing import open_context
from live_node import LiveNode
from playwright.sync_api import Browser, Page, expect

from accord.web.i18n import translations

SPANISH = translations("es")


def spanish_page(browser: Browser, live_node: LiveNode, outside_requests: list[str]) -> Page:
    # Chromium sends Accept-Language from the locale: "es-ES,es;q=0.9".
    context = open_context(browser, live_node.url, outside_requests, locale="es-ES")
    return context.new_page()


def test_a_spanish_browser_gets_the_sign_in_page_in_spanish(
    browser: Browser, live_node: LiveNode, outside_requests: list[str]
) -> None:
    page = spanish_page(browser, live_node, outside_requests)
    try:
        page.goto("/sign-in")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("heading", level=1)).to_have_text(SPANISH.gettext("Sign in"))
        expect(page.locator("label[for=password]")).to_have_text(SPANISH.gettext("Password"))
        expect(page.locator(".languages [aria-current]")).to_have_text("Español")
    finally:
        page.context.close()


def test_the_language_link_switches_and_the_choice_stays(
    browser: Browser, live_node: LiveNode, outside_requests: list[str]
) -> None:
    page = spanish_page(browser, live_node, outside_requests)
    try:
        page.goto("/sign-in")
        with page.expect_navigation():
            page.locator(".languages a[hreflang=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        # Remembered (a cookie) over the browser's Spanish, on the next page without ?lang.
        page.goto("/sign-in")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator(".languages [aria-current]")).to_have_text("English")
    finally:
        page.context.close()


def test_an_english_browser_gets_english(page: Page) -> None:
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
