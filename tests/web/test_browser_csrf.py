"""Cross-site request forgery, tried in a real browser: a form sent without the session's
token, with a wrong one, from another origin, or from another site's page is refused, and
the refusal is a page that says what to do."""

from __future__ import annotations

from browsing import path_of
from playwright.sync_api import Page, Response, Route, expect

from accord.model.tlp import Tlp
from leakdata import ADDRESS

ATTACKER = "http://attacker.invalid"  # answered inside the browser; nothing leaves the machine
EXPIRED = "This form has expired"


def send_without_token(page: Page) -> Response:
    """Submit the look-up form stripped of what a forged form would lack: the hidden field
    and the header htmx adds. Answers the node's response."""
    page.evaluate(
        """() => {
            document.querySelectorAll("input[name=csrf]").forEach((field) => field.remove());
            document.body.removeAttribute("hx-headers");
        }"""
    )
    page.locator("#q").fill(ADDRESS[Tlp.GREEN])
    with page.expect_response("**/lookup") as sent:
        page.locator(".lookup-form button[type=submit]").click()
    return sent.value


def test_a_form_sent_without_its_token_is_refused(analyst_page: Page) -> None:
    assert send_without_token(analyst_page).status == 403
    expect(analyst_page.locator(".verdict")).to_have_count(0)


def test_the_refusal_says_what_to_do(analyst_page: Page) -> None:
    send_without_token(analyst_page)
    expect(analyst_page.get_by_text(EXPIRED)).to_be_visible(timeout=5_000)


def test_a_wrong_token_or_another_origin_is_refused(analyst_page: Page) -> None:
    page = analyst_page
    token = page.locator(".lookup-form input[name=csrf]").input_value()
    assert len(token) >= 32
    request = page.request  # the browser's cookies, so the session is there
    form: dict[str, str | float | bool] = {"q": ADDRESS[Tlp.GREEN]}
    assert request.post("/lookup", form=form | {"csrf": token[:-1] + "x"}).status == 403
    assert request.post("/lookup", form=form, headers={"X-CSRF-Token": "nope"}).status == 403
    other_origin = request.post(
        "/lookup", form=form | {"csrf": token}, headers={"Origin": ATTACKER}
    )
    assert other_origin.status == 403
    # The same request with the token and from this origin goes through.
    good = request.post("/lookup", form=form | {"csrf": token})
    assert good.status == 200
    assert ADDRESS[Tlp.GREEN] in good.text()


def test_another_sites_form_does_not_carry_the_session(analyst_page: Page) -> None:
    page = analyst_page
    node = page.url.split("/", 3)[:3]
    target = "/".join(node) + "/lookup"

    def attacker_page(route: Route) -> None:
        route.fulfill(
            content_type="text/html",
            body=(
                f'<!doctype html><form id="f" method="post" action="{target}">'
                f'<input name="q" value="{ADDRESS[Tlp.RED]}"><button>go</button></form>'
            ),
        )

    page.context.route(f"{ATTACKER}/**", attacker_page)
    page.goto(f"{ATTACKER}/prize")
    with page.expect_navigation():
        page.locator("#f button").click()
    # SameSite=Strict: the browser sent no session cookie, so the node asks who this is
    # (the sign-in page) and looks nothing up.
    assert path_of(page).startswith("/sign-in")
    expect(page.locator(".verdict")).to_have_count(0)


def test_the_sign_in_form_needs_its_own_token(page: Page) -> None:
    page.goto("/sign-in")
    page.evaluate("() => document.querySelector('input[name=signin_token]').remove()")
    page.locator("input[name=email]").fill("analyst@cert.example")
    page.locator("input[name=password]").fill("whatever it is")
    with page.expect_response("**/sign-in") as sent:
        page.locator("form[action='/sign-in'] button[type=submit]").click()
    assert sent.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(EXPIRED)
