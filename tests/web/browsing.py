"""What browser tests do again and again: open a context that stays on this machine, and sign
in through the portal's form as a person would."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route, ViewportSize

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# How long an action or an expectation waits for the page: generous, since CI runs these
# beside the rest of the suite on two busy cores; a passing test does not wait for it.
TIMEOUT_MS = 20_000


def open_context(
    browser: Browser, base_url: str, outside_requests: list[str], **options: Any
) -> BrowserContext:
    """A fresh context on ``base_url`` (English unless ``locale`` says otherwise) that refuses
    every request leaving the machine and lists it in ``outside_requests``: the portal must
    work offline, and tests send nothing off loopback."""
    options = {"viewport": VIEWPORT, "locale": "en-GB"} | options
    made = browser.new_context(base_url=base_url, **options)
    made.set_default_timeout(TIMEOUT_MS)

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort("blockedbyclient")

    made.route("**/*", loopback_only)
    return made


def sign_in(page: Page, email: str, password: str, next_path: str = "/") -> None:
    """Through the form at /sign-in; returns once the answer to the form has loaded."""
    page.goto(f"/sign-in?next={quote(next_path, safe='')}")
    form = page.locator("form[action='/sign-in']")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def path_of(page: Page) -> str:
    """The page's path and query, without the live node's address."""
    parts = urlsplit(page.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
