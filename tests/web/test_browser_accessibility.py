"""axe-core over every page of the portal, signed out and signed in, in each state a person
meets it (an error shown, an answer, a table): no serious or critical violation.

Add a page to PAGES when the portal gets one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from accessibility import assert_accessible
from browsing import open_context, sign_in
from live_node import LiveNode
from playwright.sync_api import Browser, Page, StorageState

from accord.model.tlp import Tlp
from accord.store.organisations import User
from leakdata import ADDRESS, DOMAIN, indicator


@dataclass(frozen=True)
class Visit:
    path: str
    who: str | None = "analyst"  # signed in as (None: signed out; "admin" stops at TOTP)
    locale: str = "en-GB"
    status: int = 200
    ready: str = "main, body"  # what to wait for before axe looks (a script may draw the page)

    def __str__(self) -> str:
        return f"{self.path} as {self.who or 'nobody'} ({self.locale})"


AMBER_OBJECT = f"/objects/{indicator(Tlp.AMBER)['id']}"  # two versions, at AMBER
BULK = "%0A".join([ADDRESS[Tlp.CLEAR], DOMAIN[Tlp.GREEN], ADDRESS[Tlp.RED], "%25%25%25"])

PAGES: list[Visit | Any] = [  # Any: a pytest.param
    Visit("/sign-in", who=None),
    Visit("/sign-in", who=None, locale="es-ES"),
    Visit("/no-such-page", who=None, status=404),
    Visit("/"),
    Visit("/", locale="es-ES"),
    Visit(f"/?q={ADDRESS[Tlp.AMBER]}"),  # a verdict card with reasons
    Visit("/?q=192.0.2.200"),  # unknown: nothing known
    Visit("/?q=%25%25%25"),  # not a value
    Visit(f"/?q={BULK}"),  # the table of a bulk look-up
    Visit("/?q=%20"),  # the empty box's message
    Visit("/account"),
    Visit("/account/totp"),
    Visit("/no-such-page", status=404),
    Visit("/sign-in/totp", who="admin"),
    Visit(AMBER_OBJECT),
    Visit(AMBER_OBJECT, locale="es-ES"),
    Visit(f"{AMBER_OBJECT}/diff"),
    Visit(AMBER_OBJECT, who="operator", status=404),  # hidden from the water utility
    Visit("/admin", who="org_admin"),
    Visit("/admin/organisations", who="org_admin"),
    Visit("/admin/allowlist", who="org_admin"),
    Visit("/admin/allowlist?org=identity--nope", who="org_admin", status=404),
    Visit("/audit", who="org_admin"),
    Visit("/audit?action=nothing", who="org_admin"),  # no entries
    Visit("/audit/chain", who="org_admin"),
    pytest.param(
        Visit("/api/docs", who=None, ready=".swagger-ui .opblock"),
        marks=pytest.mark.xfail(
            strict=True,
            reason="Swagger UI's own colours (color-contrast) and its operation headers "
            "(nested-interactive); the vendored copy would need a style sheet over it",
        ),
    ),
]


def test_a_failed_sign_in_is_accessible(page: Page, live_node: LiveNode) -> None:
    sign_in(page, "nobody@nowhere.example", "wrong password for nobody")
    assert_accessible(page)


@pytest.mark.parametrize("visit", PAGES, ids=str)
def test_every_page_has_no_serious_accessibility_violation(
    visit: Visit,
    browser: Browser,
    live_node: LiveNode,
    outside_requests: list[str],
    signed_in: Callable[[User], StorageState],
) -> None:
    state = None
    if visit.who is not None:
        user = getattr(live_node.cast, visit.who, None) or getattr(
            live_node.cast.community, visit.who
        )
        state = signed_in(user)
    context = open_context(
        browser, live_node.url, outside_requests, locale=visit.locale, storage_state=state
    )
    try:
        page = context.new_page()
        response = page.goto(visit.path)
        assert response is not None and response.status == visit.status, page.url
        page.locator(visit.ready).first.wait_for()
        assert_accessible(page)
    finally:
        context.close()
