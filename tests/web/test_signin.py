"""Signing in to the portal: passwords, the limits on failures, the second factor, sessions
and their end, CSRF, and where the portal sends people."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from portal_support import PASSWORD, Portal, post_sign_in, signin_token


def test_pages_need_a_session(portal: Portal) -> None:
    http = portal.client()
    for path in ("/", "/account", "/?q=198.51.100.1"):
        answer = http.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in?next=")


def test_sign_in_sets_a_strict_http_only_cookie(portal: Portal) -> None:
    http = portal.client()
    done = post_sign_in(http, portal.emails["analyst"], next="//evil.example/x")
    assert done.status_code == 303
    assert done.headers["location"] == "/"  # no open redirect
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = http.get("/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_wrong_password_and_unknown_account_answer_alike(portal: Portal) -> None:
    http = portal.client()
    token = signin_token(http)
    answers = [
        post_sign_in(http, email, "not the password", token)
        for email in (portal.emails["analyst"], "nobody@nowhere.example")
    ]
    assert [a.status_code for a in answers] == [401, 401]
    bodies = [
        a.text.replace(portal.emails["analyst"], "X").replace("nobody@nowhere.example", "X")
        for a in answers
    ]
    assert bodies[0] == bodies[1]


def test_an_api_key_is_not_a_password(portal: Portal) -> None:
    key = portal.store.directory.new_key(portal.emails["analyst"])
    assert post_sign_in(portal.client(), portal.emails["analyst"], key).status_code == 401


def test_failures_lock_the_account_out_with_a_message(portal: Portal) -> None:
    http = portal.client()
    token = signin_token(http)
    for _ in range(portal_settings_burst(portal) + 1):
        answer = post_sign_in(http, portal.emails["colleague"], "wrong password!", token)
    assert answer.status_code == 429
    assert "Try again in" in answer.text
    # Even the right password is refused while locked out.
    assert post_sign_in(http, portal.emails["colleague"], PASSWORD, token).status_code == 429


def portal_settings_burst(portal: Portal) -> int:
    return int(portal.app.state.portal.settings.signin_failure_burst)  # type: ignore[attr-defined]


def test_sign_in_form_needs_its_token(portal: Portal) -> None:
    http = portal.client()
    http.get("/sign-in")
    answer = http.post("/sign-in", data={"email": portal.emails["analyst"], "password": PASSWORD})
    assert answer.status_code == 403


def test_posts_need_the_csrf_token_and_this_origin(portal: Portal) -> None:
    me = portal.sign_in(portal.emails["analyst"])
    assert me.http.post("/lookup", data={"q": "198.51.100.1"}).status_code == 403
    assert me.http.post("/lookup", data={"q": "198.51.100.1", "csrf": "x" * 43}).status_code == 403
    foreign = me.http.post(
        "/lookup",
        data={"q": "198.51.100.1", "csrf": me.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert me.post("/lookup", {"q": "198.51.100.1"}).status_code == 200  # type: ignore[attr-defined]
    htmx = me.http.post(
        "/lookup",
        data={"q": "198.51.100.1"},
        headers={"HX-Request": "true", "X-CSRF-Token": me.csrf},
    )
    assert htmx.status_code == 200 and "<html" not in htmx.text


def test_sign_out_ends_the_session_everywhere(portal: Portal) -> None:
    me = portal.sign_in(portal.emails["analyst"])
    cookie = dict(me.http.cookies)
    me.post("/sign-out", {}, follow_redirects=False)
    again = portal.client()
    again.cookies.update(cookie)
    assert again.get("/", follow_redirects=False).status_code == 303


def test_a_revoked_session_goes_back_to_sign_in(portal: Portal) -> None:
    me = portal.sign_in(portal.emails["analyst"])
    user = portal.store.directory.user(portal.emails["analyst"])
    portal.store.web_sessions.revoke_user(user.id)  # as another worker or the CLI would
    time.sleep(0.35)  # this worker remembers a checked session for key_cache_seconds
    answer = me.http.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    htmx = me.http.post(
        "/lookup",
        data={"q": "x", "csrf": me.csrf},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert htmx.headers.get("hx-redirect", "").startswith("/sign-in")


def test_totp_is_asked_after_the_password(portal: Portal) -> None:
    user = portal.store.directory.user(portal.emails["investigator"])
    secret = portal.store.credentials.new_totp_secret()
    assert portal.store.credentials.enable_totp(
        user.id, secret, pyotp.TOTP(secret).at(time.time() - 30)
    )
    http = portal.client()
    done = post_sign_in(http, user.email)
    assert done.headers["location"].startswith("/sign-in/totp")
    # Half signed in: nothing else opens.
    assert http.get("/", follow_redirects=False).headers["location"] == "/sign-in/totp"
    page = http.get("/sign-in/totp")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    wrong = http.post(
        "/sign-in/totp",
        data={
            "csrf": csrf.group(1),
            "code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111",
        },
    )
    assert wrong.status_code == 401
    right = http.post(
        "/sign-in/totp",
        data={"csrf": csrf.group(1), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert http.get("/").status_code == 200


def test_an_organisation_can_require_totp(portal: Portal) -> None:
    portal.store.credentials.require_totp(portal.community.water.id, True)
    http = portal.client()
    done = post_sign_in(http, portal.emails["operator"])
    assert done.headers["location"] == "/account/totp"
    assert http.get("/", follow_redirects=False).headers["location"] == "/account/totp"
    setup = http.get("/account/totp").text
    secret = re.search(r'name="secret" value="([^"]+)"', setup)
    csrf = re.search(r'name="csrf" value="([^"]+)"', setup)
    assert secret and csrf
    done = http.post(
        "/account/totp",
        data={
            "csrf": csrf.group(1),
            "secret": secret.group(1),
            "code": pyotp.TOTP(secret.group(1)).now(),
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert http.get("/").status_code == 200


@pytest.mark.parametrize("language, word", [("es", "Buscar"), ("en", "Search")])
def test_language_from_the_browser(portal: Portal, language: str, word: str) -> None:
    me = portal.sign_in(portal.emails["analyst"])
    page = me.http.get("/", headers={"Accept-Language": f"{language},en;q=0.5"})
    assert f'<html lang="{language}">' in page.text
    assert word in page.text
