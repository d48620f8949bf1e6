"""Administration in a real browser: an org-admin adds a user of their organisation, copies
the key shown once, makes a second key and revokes the first. The keys open the API, a
revoked one no longer does, and the new user signs in with the password given. The pages
pass axe as they are met (tests/web/test_browser_accessibility.py has the rest)."""

from __future__ import annotations

import httpx
from accessibility import assert_accessible
from browsing import open_context, sign_in
from live_node import LiveNode, password_of
from playwright.sync_api import Browser, BrowserContext, Page, expect

NEW_USER = "browser.made@water.example"
NEW_PASSWORD = "a browser made password"


def _opens_the_api(live_node: LiveNode, key: str) -> bool:
    answer = httpx.get(
        f"{live_node.url}/api/v1/organisations", headers={"Authorization": f"Bearer {key}"}
    )
    return answer.status_code == 200


def test_an_admin_creates_a_user_and_a_key(
    page: Page,
    context: BrowserContext,
    browser: Browser,
    live_node: LiveNode,
    outside_requests: list[str],
) -> None:
    boss = live_node.cast.org_admin
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, boss.email, password_of(boss), "/admin")
    expect(page.locator("h1")).to_have_text("Administration")
    assert_accessible(page)

    form = page.locator("form[action='/admin/users']")
    form.locator("#email").fill(NEW_USER)
    form.locator("#role").select_option("reader")
    form.locator("#password").fill(NEW_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("[role=status]")).to_contain_text("The user is added.")
    first = page.locator("#new-key").input_value()
    assert first.startswith("acc_")
    copy = page.locator("button[data-copy=new-key]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == first
    assert_accessible(page)
    made = live_node.store.directory.user(NEW_USER)
    assert live_node.store.directory.user_for_key(first) == made
    assert _opens_the_api(live_node, first)

    with page.expect_navigation():
        page.locator(f"form[action='/admin/users/{made.id}/keys'] button").click()
    second = page.locator("#new-key").input_value()
    assert second.startswith("acc_") and second != first
    first_id = first.split("_")[1]
    with page.expect_navigation():
        page.locator(f"form[action='/admin/keys/{first_id}/revoke'] button").click()
    expect(page.locator("[role=status]")).to_contain_text("The key is revoked")
    expect(page.locator("#new-key")).to_have_count(0)  # shown once, never again
    assert not _opens_the_api(live_node, first)
    assert _opens_the_api(live_node, second)

    theirs = open_context(browser, live_node.url, outside_requests)
    try:
        their_page = theirs.new_page()
        sign_in(their_page, NEW_USER, NEW_PASSWORD)
        expect(their_page.locator(".who a[href='/account']")).to_have_text(NEW_USER)
    finally:
        theirs.close()
    assert outside_requests == []
