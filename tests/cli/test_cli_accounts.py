"""The portal's accounts on the command line (issue 17): `accord user passwd`, `user add
--password-stdin`, `user totp-reset`, `user sessions`, `user sign-out`, `org require-totp`,
and what `user list` and `org list` show, on SQLite and PostgreSQL. A password change and a
reset end the user's portal sessions; a weak password is refused with exit code 2 and
changes nothing; under --as the account rule of the API applies (docs/accounts.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pyotp
import pytest
from typer.testing import CliRunner

from accord.cli import user_cmds
from accord.cli.main import app
from accord.store.node import Store

runner = CliRunner()

ANALYST = "analyst@cert.example"
COLLEAGUE = "colleague@cert.example"
BOSS = "boss@cert.example"  # org-admin of CERT-EX
OTHER_BOSS = "boss@water.example"  # org-admin of Water Utility
GOOD = "correct horse battery staple"
IDLE = timedelta(minutes=30)


def accord(db: str, *args: str, code: int = 0, stdin: str | None = None) -> Any:
    result = runner.invoke(app, ["--db", db, *args], input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def said(result: Any) -> str:
    """The output (standard output and error) as one line of words."""
    return " ".join(str(result.output).split())


@pytest.fixture
def db(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    accord(store_url, "init")
    accord(store_url, "org", "add", "CERT-EX")
    accord(store_url, "org", "add", "Water Utility")
    accord(store_url, "user", "add", ANALYST, "--org", "CERT-EX")
    accord(store_url, "user", "add", COLLEAGUE, "--org", "CERT-EX", "--role", "reader")
    accord(store_url, "user", "add", BOSS, "--org", "CERT-EX", "--role", "org-admin")
    accord(store_url, "user", "add", OTHER_BOSS, "--org", "Water Utility", "--role", "org-admin")
    return store_url


@pytest.fixture
def node(db: str) -> Any:
    store = Store.open(db)
    try:
        yield store
    finally:
        store.close()


def _id(store: Store, email: str) -> str:
    return store.directory.user(email).id


def test_passwd_reads_stdin_sets_the_password_and_signs_out_everywhere(
    db: str, node: Store
) -> None:
    user = _id(node, ANALYST)
    sessions = [node.web_sessions.create(user, timedelta(hours=8)) for _ in range(2)]
    other = node.web_sessions.create(_id(node, COLLEAGUE), timedelta(hours=8))
    done = accord(db, "user", "passwd", ANALYST, stdin=GOOD + "\n")
    assert "ended 2 portal sessions" in said(done)
    assert GOOD not in done.output
    found = node.credentials.check_password(ANALYST, GOOD)
    assert found is not None and found.id == user
    assert all(node.web_sessions.get(token, IDLE) is None for token in sessions)
    assert node.web_sessions.get(other, IDLE) is not None  # another user's: untouched
    # The line ending is not part of the password; spaces inside and at the ends are.
    as_json = accord(db, "user", "passwd", ANALYST, "--json", stdin=f" {GOOD} \r\n")
    assert orjson.loads(as_json.stdout) == {
        "email": ANALYST,
        "password_set": True,
        "sessions_ended": 0,
    }
    assert node.credentials.check_password(ANALYST, f" {GOOD} ") is not None
    assert node.credentials.check_password(ANALYST, GOOD) is None
    # The audit says who set it, never the password.
    entries = node.audit.entries(limit=1000)
    changes = [e for e in entries if e.detail.get("change") == "set password"]
    assert len(changes) == 2 and changes[0].target == user
    assert GOOD not in str([e.detail for e in entries])


@pytest.mark.parametrize(
    "password, says",
    [
        ("short", "at least 12 characters"),
        (ANALYST, "must not be the e-mail address"),
        ("x" * 1025, "at most 1024 characters"),
        ("", "no password on standard input"),
    ],
)
def test_a_weak_password_is_refused_with_exit_2_and_changes_nothing(
    db: str, node: Store, password: str, says: str
) -> None:
    accord(db, "user", "passwd", ANALYST, stdin=GOOD + "\n")
    token = node.web_sessions.create(_id(node, ANALYST), timedelta(hours=8))
    refused = accord(db, "user", "passwd", ANALYST, code=2, stdin=password + "\n")
    assert says in said(refused) and "nothing was changed" in said(refused)
    assert node.credentials.check_password(ANALYST, GOOD) is not None
    assert node.web_sessions.get(token, IDLE) is not None


def test_passwd_at_a_terminal_asks_twice_unseen(
    db: str, node: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(user_cmds, "_at_terminal", lambda: True)
    # A mismatch is asked again; the second pair matches.
    done = accord(
        db, "user", "passwd", ANALYST, stdin=f"{GOOD}\nsomething else entirely\n{GOOD}\n{GOOD}\n"
    )
    assert "New password" in done.output and "do not match" in done.output
    assert GOOD not in done.output  # not echoed
    assert node.credentials.check_password(ANALYST, GOOD) is not None


def test_user_add_with_password_stdin(db: str, node: Store) -> None:
    made = accord(
        db,
        "user",
        "add",
        "new@cert.example",
        "--org",
        "CERT-EX",
        "--password-stdin",
        "--json",
        stdin=GOOD + "\n",
    )
    assert orjson.loads(made.stdout)["has_password"] is True
    assert node.credentials.check_password("new@cert.example", GOOD) is not None
    # A weak password: refused before the user is made, so nothing is left behind.
    refused = accord(
        db,
        "user",
        "add",
        "weak@cert.example",
        "--org",
        "CERT-EX",
        "--password-stdin",
        code=2,
        stdin="short\n",
    )
    assert "at least 12 characters" in said(refused)
    assert "weak@cert.example" not in {u.email for u in node.directory.users()}


def test_user_list_says_whether_a_password_and_totp_are_set(db: str, node: Store) -> None:
    accord(db, "user", "passwd", ANALYST, stdin=GOOD + "\n")
    secret = node.credentials.new_totp_secret()
    assert node.credentials.enable_totp(_id(node, ANALYST), secret, pyotp.TOTP(secret).now())
    listed = {u["email"]: u for u in orjson.loads(accord(db, "user", "list", "--json").stdout)}
    assert (listed[ANALYST]["has_password"], listed[ANALYST]["totp_enabled"]) == (True, True)
    assert (listed[COLLEAGUE]["has_password"], listed[COLLEAGUE]["totp_enabled"]) == (
        False,
        False,
    )
    shown = accord(db, "user", "list").output
    assert "password" in shown and "TOTP" in shown
    for output in (shown, accord(db, "user", "list", "--json").output):
        assert secret not in output and "$argon2" not in output
    # An org-admin sees their own organisation's users, with the same columns.
    mine = orjson.loads(accord(db, "user", "list", "--as", BOSS, "--json").stdout)
    assert {u["email"] for u in mine} == {ANALYST, COLLEAGUE, BOSS}
    assert all("has_password" in u and "totp_enabled" in u for u in mine)


def test_totp_reset_forgets_the_factor_and_ends_sessions(db: str, node: Store) -> None:
    user = _id(node, ANALYST)
    secret = node.credentials.new_totp_secret()
    assert node.credentials.enable_totp(user, secret, pyotp.TOTP(secret).now())
    token = node.web_sessions.create(user, timedelta(hours=8), second_factor=True)
    done = accord(db, "user", "totp-reset", ANALYST, "--as", BOSS, "--json")
    assert orjson.loads(done.stdout) == {"email": ANALYST, "had_totp": True, "sessions_ended": 1}
    account = node.credentials.account(user)
    assert account is not None and not account.totp_enabled
    assert node.web_sessions.get(token, IDLE) is None
    again = accord(db, "user", "totp-reset", ANALYST)
    assert "had no second factor" in said(again)


def test_totp_reset_is_for_managers_only(db: str, node: Store) -> None:
    own = accord(db, "user", "totp-reset", ANALYST, "--as", ANALYST, code=2)
    assert "may not reset their own second factor" in said(own)
    # Someone the actor does not manage answers like someone who does not exist.
    unknown = accord(db, "user", "totp-reset", "nobody@cert.example", "--as", OTHER_BOSS, code=2)
    hidden = accord(db, "user", "totp-reset", ANALYST, "--as", OTHER_BOSS, code=2)
    assert said(hidden).replace(ANALYST, "nobody@cert.example") == said(unknown)
    peer = accord(db, "user", "totp-reset", OTHER_BOSS, "--as", BOSS, code=2)
    assert "no user" in said(peer)


def test_passwd_under_as_follows_the_account_rule(db: str, node: Store) -> None:
    accord(db, "user", "passwd", ANALYST, "--as", ANALYST, stdin=GOOD + "\n")  # their own
    accord(db, "user", "passwd", COLLEAGUE, "--as", BOSS, stdin=GOOD + "\n")  # managed
    unknown = accord(
        db, "user", "passwd", "nobody@cert.example", "--as", ANALYST, code=2, stdin=GOOD + "\n"
    )
    hidden = accord(db, "user", "passwd", COLLEAGUE, "--as", ANALYST, code=2, stdin="other\n")
    assert said(hidden).replace(COLLEAGUE, "nobody@cert.example") == said(unknown)
    accord(db, "user", "passwd", BOSS, "--as", OTHER_BOSS, code=2, stdin=GOOD + "\n")
    assert node.credentials.check_password(BOSS, GOOD) is None


def test_sessions_are_listed_and_signed_out(db: str, node: Store) -> None:
    user = _id(node, ANALYST)
    assert "has no portal session" in said(accord(db, "user", "sessions", ANALYST))
    token = node.web_sessions.create(
        user, timedelta(hours=8), address="192.0.2.7", user_agent="Firefox/140.0"
    )
    listed = orjson.loads(accord(db, "user", "sessions", ANALYST, "--json").stdout)
    assert [(s["address"], s["user_agent"]) for s in listed] == [("192.0.2.7", "Firefox/140.0")]
    assert token not in str(listed) and len(listed[0]["id"]) == 12
    assert "192.0.2.7" in accord(db, "user", "sessions", ANALYST, "--as", BOSS).output
    unknown = accord(db, "user", "sessions", "nobody@cert.example", "--as", COLLEAGUE, code=2)
    hidden = accord(db, "user", "sessions", ANALYST, "--as", COLLEAGUE, code=2)
    assert said(hidden).replace(ANALYST, "nobody@cert.example") == said(unknown)
    ended = accord(db, "user", "sign-out", ANALYST, "--as", ANALYST, "--json")
    assert orjson.loads(ended.stdout) == {"email": ANALYST, "sessions_ended": 1}
    assert node.web_sessions.get(token, IDLE) is None
    assert node.web_sessions.of_user(user) == []


def test_org_require_totp(db: str, node: Store) -> None:
    without = node.web_sessions.create(_id(node, ANALYST), timedelta(hours=8))
    with_factor = node.web_sessions.create(
        _id(node, COLLEAGUE), timedelta(hours=8), second_factor=True
    )
    elsewhere = node.web_sessions.create(_id(node, OTHER_BOSS), timedelta(hours=8))
    on = accord(db, "org", "require-totp", "CERT-EX", "--on", "--as", BOSS, "--json")
    assert orjson.loads(on.stdout)["require_totp"] is True
    assert orjson.loads(on.stdout)["sessions_ended"] == 1
    assert node.web_sessions.get(without, IDLE) is None  # signs in again, sets up TOTP
    assert node.web_sessions.get(with_factor, IDLE) is not None
    assert node.web_sessions.get(elsewhere, IDLE) is not None
    account = node.credentials.account(_id(node, ANALYST))
    assert account is not None and account.totp_required
    orgs = {o["name"]: o for o in orjson.loads(accord(db, "org", "list", "--json").stdout)}
    assert orgs["CERT-EX"]["require_totp"] and not orgs["Water Utility"]["require_totp"]
    assert "TOTP required" in accord(db, "org", "list").output
    # Who may: the node admin (the local operator here) and the org's own org-admins.
    refused = accord(db, "org", "require-totp", "CERT-EX", "--off", "--as", OTHER_BOSS, code=2)
    assert "may not change what CERT-EX requires" in said(refused)
    accord(db, "org", "require-totp", "CERT-EX", "--off", "--as", ANALYST, code=2)
    assert node.credentials.account(_id(node, ANALYST)).totp_required  # type: ignore[union-attr]
    off = accord(db, "org", "require-totp", "CERT-EX", "--off")
    assert "no longer requires" in said(off)
    assert not node.credentials.account(_id(node, ANALYST)).totp_required  # type: ignore[union-attr]
    missing = accord(db, "org", "require-totp", "Nowhere", "--on", code=2)
    assert "no organisation 'Nowhere'" in said(missing)
