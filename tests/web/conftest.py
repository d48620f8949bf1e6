"""The portal's fixtures.

In-process: `portal` (Starlette's TestClient over the parametrised store,
tests/web/portal_support.py).

In a real browser: the whole node served on loopback (tests/web/live_node.py) and Debian's
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
from collections.abc import Callable, Iterator

import pytest
from browsing import TIMEOUT_MS, open_context, sign_in
from live_node import LiveNode, password_of, started
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    StorageState,
    expect,
    sync_playwright,
)
from portal_support import portal  # noqa: F401  (a fixture)

from accord.store.organisations import User

expect.set_options(timeout=TIMEOUT_MS)  # expectations wait as long as actions do


def chromium_path() -> str | None:
    return os.environ.get("ACCORD_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    # Every test signs in from 127.0.0.1: the allowance of failed sign-ins per address is
    # loosened here so that the wrong passwords of some tests do not lock out the others;
    # the lock-out has its own node (tests/web/test_browser_sign_in.py). A worker remembers a
    # checked session for key_cache_seconds: short here, so that a test of a revocation made
    # outside the portal waits only this long.
    with started(
        tmp_path_factory.mktemp("live-node"), signin_failure_burst=1000, key_cache_seconds=0.3
    ) as node:
        yield node


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
    made = open_context(browser, live_node.url, outside_requests)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_node: LiveNode) -> Callable[[User], StorageState]:
    """The browser state (the session cookie) of a user signed in through the form, once per
    module: a test that only needs someone signed in opens its context with it and saves the
    sign-in's page loads (tests/web/test_browser_sign_in.py tests the form itself). Tests that end
    sessions use users of their own (the colleague, the investigator)."""
    made: dict[str, StorageState] = {}

    def state(user: User) -> StorageState:
        if user.email not in made:
            context = open_context(browser, live_node.url, [])
            try:
                sign_in(context.new_page(), user.email, password_of(user))
                made[user.email] = context.storage_state()
            finally:
                context.close()
        return made[user.email]

    return state


@pytest.fixture
def analyst_page(
    browser: Browser,
    live_node: LiveNode,
    outside_requests: list[str],
    signed_in: Callable[[User], StorageState],
) -> Iterator[Page]:
    """A page of a fresh context on the look-up page, signed in as the CERT analyst (the
    creator of the leak matrix's objects)."""
    analyst = live_node.cast.community.analyst
    context = open_context(
        browser, live_node.url, outside_requests, storage_state=signed_in(analyst)
    )
    try:
        page = context.new_page()
        page.goto("/")
        yield page
    finally:
        context.close()
