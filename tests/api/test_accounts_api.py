"""The portal's accounts over the REST API (issue 17), on SQLite and PostgreSQL: what the
routes answer beyond who may call them (tests/api/test_admin_authority.py has that). A weak
password is a 422 with its pointer and changes nothing; a password never opens the API; a
user's wrong present password counts as a failed authentication; listings say whether a
password and a second factor are set, never the secrets; turning an organisation's
requirement on ends the sessions that gave no second factor."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher

ANALYST = "analyst@cert.example"
COLLEAGUE = "colleague@cert.example"
ADMIN = "admin@node.example"
GOOD = "correct horse battery staple"
HOUR = timedelta(hours=1)
IDLE = timedelta(minutes=30)
FAILURES = 3


@pytest.fixture
def node(api_with: Callable[..., Any]) -> Any:
    api = api_with(auth_failure_burst=FAILURES, auth_failures_per_minute=0.01)
    # Argon2id at its cheapest: these tests are about the routes, not about the hash.
    api.store.credentials.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return api


def call(api: Any, email: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {api.keys[email]}"}
    return api.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    "password, says",
    [
        ("short", "at least 12 characters"),
        (ANALYST, "must not be the e-mail address"),
        ("x" * 1025, "at most 1024 characters"),
        ("twelve chars\x00", "NUL"),
    ],
)
def test_a_weak_password_is_422_and_changes_nothing(node: Any, password: str, says: str) -> None:
    store = node.store
    user = store.directory.user(ANALYST)
    store.credentials.set_password(user.id, GOOD)
    token = store.web_sessions.create(user.id, HOUR)
    answer = call(node, ADMIN, "PUT", f"/users/{ANALYST}/password", json={"password": password})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert says in problem["detail"]
    assert [e["pointer"] for e in problem["errors"]] == ["/password"]
    assert store.credentials.check_password(ANALYST, GOOD) == user
    assert store.web_sessions.get(token, IDLE) is not None


def test_a_password_does_not_open_the_api(node: Any) -> None:
    store = node.store
    user = store.directory.user(ANALYST)
    answer = call(node, ADMIN, "PUT", f"/users/{ANALYST}/password", json={"password": GOOD})
    assert answer.status_code == 204
    assert store.credentials.check_password(ANALYST, GOOD) == user
    for headers in (basic(ANALYST, GOOD), {"Authorization": f"Bearer {GOOD}"}):
        assert node.http.get("/api/v1/objects", headers=headers).status_code == 401
    # And the key is not a password: it goes on working, and does not sign in.
    assert call(node, ANALYST, "GET", "/objects").status_code == 200
    assert store.credentials.check_password(ANALYST, node.keys[ANALYST]) is None


def test_changes_are_audited_without_the_secret(node: Any) -> None:
    store = node.store
    user = store.directory.user(ANALYST)
    store.web_sessions.create(user.id, HOUR)
    call(node, ADMIN, "PUT", f"/users/{ANALYST}/password", json={"password": GOOD})
    call(node, ADMIN, "DELETE", f"/users/{ANALYST}/totp")
    call(node, ADMIN, "DELETE", f"/users/{ANALYST}/sessions")
    call(node, ADMIN, "PUT", "/organisations/CERT-EX/require-totp", json={"required": True})
    entries = store.audit.entries(action="admin")
    changes = [(e.target, e.detail.get("change"), e.detail.get("sessions_ended")) for e in entries]
    cert = store.directory.org("CERT-EX").id
    assert changes[-4:] == [
        (user.id, "set password", 1),
        (user.id, "reset second factor", 0),
        (user.id, "end sessions", 0),
        (cert, "require second factor", 0),
    ]
    assert all(e.user_id == store.directory.user(ADMIN).id for e in entries[-4:])
    assert GOOD not in str([e.detail for e in entries])


def test_wrong_present_passwords_are_failed_authentications(node: Any) -> None:
    store = node.store
    user = store.directory.user(ANALYST)
    store.credentials.set_password(user.id, GOOD)
    path = f"/users/{ANALYST}/password"
    new = "a new and longer passphrase"
    for number in range(FAILURES):
        wrong = call(
            node,
            ANALYST,
            "PUT",
            path,
            json={"password": new, "current_password": f"guess {number}"},
        )
        assert wrong.status_code == 403, wrong.text
    # Now even the right one waits: the route does not let a key holder guess.
    limited = call(node, ANALYST, "PUT", path, json={"password": new, "current_password": GOOD})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert store.credentials.check_password(ANALYST, GOOD) == user


def test_user_listing_says_whether_password_and_totp_are_set(node: Any) -> None:
    store = node.store
    analyst = store.directory.user(ANALYST)
    store.credentials.set_password(analyst.id, GOOD)
    secret = store.credentials.new_totp_secret()
    assert store.credentials.enable_totp(analyst.id, secret, pyotp.TOTP(secret).now())
    answer = call(node, ADMIN, "GET", "/users")
    users = {u["email"]: u for u in answer.json()}
    assert (users[ANALYST]["has_password"], users[ANALYST]["totp_enabled"]) == (True, True)
    assert (users[COLLEAGUE]["has_password"], users[COLLEAGUE]["totp_enabled"]) == (False, False)
    assert secret not in answer.text and "$argon2" not in answer.text


def test_requiring_totp_ends_the_sessions_without_a_second_factor(node: Any) -> None:
    store = node.store
    analyst = store.directory.user(ANALYST)
    colleague = store.directory.user(COLLEAGUE)
    without = store.web_sessions.create(analyst.id, HOUR)
    with_factor = store.web_sessions.create(colleague.id, HOUR, second_factor=True)
    elsewhere = store.web_sessions.create(store.directory.user("soc@water.example").id, HOUR)
    answer = call(
        node, ADMIN, "PUT", "/organisations/CERT-EX/require-totp", json={"required": True}
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "organisation": store.directory.org("CERT-EX").id,
        "name": "CERT-EX",
        "required": True,
        "sessions_ended": 1,
    }
    assert store.web_sessions.get(without, IDLE) is None
    assert store.web_sessions.get(with_factor, IDLE) is not None
    assert store.web_sessions.get(elsewhere, IDLE) is not None
    account = store.credentials.account(analyst.id)
    assert account is not None and account.totp_required
    read = call(node, ANALYST, "GET", "/organisations/CERT-EX/require-totp")
    assert read.json()["required"] is True


def test_bodies_are_checked(node: Any) -> None:
    path = f"/users/{ANALYST}/password"
    extra = call(node, ADMIN, "PUT", path, json={"password": GOOD, "hash": "$argon2id$"})
    assert extra.status_code == 422
    assert call(node, ADMIN, "PUT", path, json={}).status_code == 422
    flag = call(node, ADMIN, "PUT", "/organisations/CERT-EX/require-totp", json={"on": True})
    assert flag.status_code == 422
