"""Browser fixtures: the whole node served on loopback (tests/web/live_node.py) and Debian's
Chromium driven by Playwright, headless.

- `live_node`: one per xdist worker (session scope), over its own SQLite store. Tests that
  change state (revoke a session, fail a sign-in) do it to their own user or session, so that
  the order tests run in does not matter.
- `browser`: Chromium, launched once per test module. Not once per session: while Playwright's
  sync API is open it leaves its event loop marked as running in the main thread, and
  `asyncio.run` in any other test the same worker runs next would fail.
- `context` and `page`: fresh for every test (cookies, storage, language), closed after it.
  The context refuses every request that would leave the machine (a CDN, say) and lists it
  in `outside_requests`: the portal must work offline, and tests send nothing off loopback.

Playwright launches /usr/bin/chromium (`make install` installs Debian's package) and never
downloads a browser. Without it the tests here skip and say so; ``ACCORD_CHROMIUM`` names
another binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    sync_playwright,
)

from live_node import LiveNode, start_live_node

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def chromium_path() -> str | None:
    return os.environ.get("ACCORD_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = start_live_node(tmp_path_factory.mktemp("live-node"))
    try:
        yield node
    finally:
        node.stop()
        node.store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "Debian's chromium is not installed (`make install` installs it, or "
            "`apt-get install chromium`); the browser tests need it"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def outside_requests() -> list[str]:
    """The URLs off this machine that the test's pages asked for (each one refused)."""
    return []


@pytest.fixture
def context(
    browser: Browser, live_node: LiveNode, outside_requests: list[str]
) -> Iterator[BrowserContext]:
    made = browser.new_context(base_url=live_node.url, viewport=VIEWPORT, locale="en-GB")
    made.set_default_timeout(10_000)

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort("blockedbyclient")

    made.route("**/*", loopback_only)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
