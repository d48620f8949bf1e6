"""Signing in and out in a real browser: the form, its answer to a wrong password, the session
cookie, a session that ends (revoked, signed out) and the lock-out after failed attempts."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import open_context, path_of, sign_in
from live_node import LiveNode, next_totp_code, password_of, started
from playwright.sync_api import Browser, Page, expect

WRONG = "The e-mail address or the password is not right."


def test_a_visitor_is_sent_to_sign_in_and_back_to_the_page_asked_for(
    page: Page, live_node: LiveNode
) -> None:
    analyst = live_node.cast.community.analyst
    page.goto("/?q=198.51.100.10")
    assert path_of(page) == "/sign-in?next=%2F%3Fq%3D198.51.100.10"
    form = page.locator("form[action='/sign-in']")
    form.locator("input[name=email]").fill(analyst.email)
    form.locator("input[name=password]").fill(password_of(analyst))
    with page.expect_navigation():
        form.locator("input[name=password]").press("Enter")
    assert path_of(page) == "/?q=198.51.100.10"
    expect(page.locator("header .who")).to_contain_text(analyst.email)
    expect(page.locator("#answer .verdict")).to_be_visible()


def test_the_session_cookie_is_out_of_reach_of_scripts_and_other_sites(
    analyst_page: Page,
) -> None:
    cookies = {c["name"]: c for c in analyst_page.context.cookies()}
    session = cookies["accord_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["expires"] == -1  # ends with the browser; the server ends it sooner
    assert "accord_session" not in analyst_page.evaluate("document.cookie")


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    page: Page, live_node: LiveNode
) -> None:
    reader = live_node.cast.reader
    answers = []
    for email, password in (
        (reader.email, password_of(reader) + "x"),
        ("nobody@nowhere.example", password_of(reader)),
    ):
        with page.expect_response("**/sign-in") as posted:
            sign_in(page, email, password)
        assert posted.value.status == 401
        assert path_of(page) == "/sign-in"
        alert = page.get_by_role("alert")
        expect(alert).to_have_text(WRONG)
        # The address stays in the box; the password does not.
        assert page.locator("input[name=email]").input_value() == email
        assert page.locator("input[name=password]").input_value() == ""
        answers.append(alert.inner_text())
        assert not any(c["name"] == "accord_session" for c in page.context.cookies())
    assert answers[0] == answers[1]


def test_a_revoked_session_goes_back_to_sign_in(page: Page, live_node: LiveNode) -> None:
    colleague = live_node.cast.community.colleague
    sign_in(page, colleague.email, password_of(colleague))
    assert path_of(page) == "/"
    # Revoked outside the portal, as another worker or the command line would: the worker
    # that served the page remembers a checked session for key_cache_seconds.
    assert live_node.store.web_sessions.revoke_user(colleague.id) >= 1
    time.sleep(live_node.settings.key_cache_seconds + 0.05)
    page.goto("/?q=198.51.100.11")
    assert path_of(page) == "/sign-in?next=%2F%3Fq%3D198.51.100.11"
    expect(page.locator("form[action='/sign-in']")).to_be_visible()
    # Signing in again works, and leads where the person was going.
    sign_in(page, colleague.email, password_of(colleague), next_path="/?q=198.51.100.11")
    assert path_of(page) == "/?q=198.51.100.11"


def test_a_session_ended_from_another_device_goes_back_to_sign_in(
    browser: Browser, live_node: LiveNode, outside_requests: list[str]
) -> None:
    # The org admin is signed in on a laptop and a phone, and ends the laptop's session from
    # the phone's account page.
    boss = live_node.cast.org_admin
    laptop = open_context(browser, live_node.url, outside_requests)
    phone = open_context(browser, live_node.url, outside_requests)
    try:
        on_laptop, on_phone = laptop.new_page(), phone.new_page()
        sign_in(on_laptop, boss.email, password_of(boss))
        sign_in(on_phone, boss.email, password_of(boss), next_path="/account")
        assert path_of(on_phone) == "/account"
        # The account page names a session by the start of its token's SHA-256.
        token = next(c["value"] for c in laptop.cookies() if c["name"] == "accord_session")
        shown = hashlib.sha256(token.encode()).hexdigest()[:12]
        end = on_phone.locator(f"form:has(input[name=session][value='{shown}']) button")
        with on_phone.expect_navigation():
            end.click()
        expect(on_phone.get_by_role("status")).to_have_text("The session is ended.")
        # Only the other device was signed out.
        on_laptop.goto("/?q=198.51.100.10")
        assert path_of(on_laptop) == "/sign-in?next=%2F%3Fq%3D198.51.100.10"
        on_phone.goto("/")
        assert path_of(on_phone) == "/"
    finally:
        laptop.close()
        phone.close()


def test_signing_out_ends_the_session_on_the_server(page: Page, live_node: LiveNode) -> None:
    investigator = live_node.cast.community.investigator
    sign_in(page, investigator.email, password_of(investigator))
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "accord_session")
    with page.expect_navigation():
        page.locator("form[action='/sign-out'] button").click()
    assert path_of(page) == "/sign-in"
    # The old cookie, put back as a thief would, opens nothing.
    page.context.add_cookies([{"name": "accord_session", "value": token, "url": live_node.url}])
    page.goto("/")
    assert path_of(page).startswith("/sign-in")


@pytest.fixture(scope="module")
def strict_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A node of its own with the default sign-in limits (the shared node's are loose, so
    that the failures of other tests from 127.0.0.1 do not lock them out)."""
    directory: Path = tmp_path_factory.mktemp("strict-node")
    with started(directory, signin_failure_burst=3, signin_failures_per_minute=0.5) as node:
        yield node


def test_after_failed_attempts_the_form_refuses_and_says_for_how_long(
    browser: Browser, strict_node: LiveNode, outside_requests: list[str]
) -> None:
    reader = strict_node.cast.reader
    context = open_context(browser, strict_node.url, outside_requests)
    try:
        page = context.new_page()
        for _ in range(3):
            sign_in(page, reader.email, "not the password at all")
            expect(page.get_by_role("alert")).to_have_text(WRONG)
        # The right password is refused too now, before it is checked, and the page says so.
        with page.expect_response("**/sign-in") as posted:
            sign_in(page, reader.email, password_of(reader))
        assert posted.value.status == 429
        expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
        expect(page.get_by_role("alert")).to_contain_text("Try again in 2 minutes.")
        assert not any(c["name"] == "accord_session" for c in context.cookies())
    finally:
        context.close()


def test_a_user_with_a_second_factor_gives_the_code_after_the_password(
    page: Page, live_node: LiveNode
) -> None:
    admin = live_node.cast.admin
    sign_in(page, admin.email, password_of(admin), next_path="/account")
    assert path_of(page) == "/sign-in/totp?next=/account"
    # Half signed in: no other page opens yet.
    page.goto("/")
    assert path_of(page) == "/sign-in/totp"
    code = next_totp_code(live_node.cast.totp_secret)
    page.locator("input[name=code]").fill("000000" if code != "000000" else "111111")
    with page.expect_navigation():
        page.locator("input[name=code]").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    page.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        page.locator("input[name=code]").press("Enter")
    assert path_of(page) == "/"
    expect(page.locator("header .who")).to_contain_text(admin.email)
